"""The connector guide's example runs as written, using only the public plugin API."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-a-connector.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def test_the_example_imports_only_the_public_api() -> None:
    imported = {
        m for code in blocks() for m in re.findall(r"^from (auditor\S*) import", code, re.M)
    }
    assert imported == {"auditor.plugin"}


def test_the_example_connector_passes_the_test_kit(tmp_path: Path) -> None:
    module, tests = blocks()
    (tmp_path / "test_clubhouse_guide.py").write_text(module + "\n\n" + tests, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_clubhouse_guide.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) >= 10, done.stdout[-500:]
