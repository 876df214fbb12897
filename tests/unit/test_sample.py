"""The bundled sample district (``auditor demo``): a page of every connector's platform,
those pages' snapshots exactly what the connectors produce now (``tools/build_sample.py``),
every snapshot registered, and one export broken on purpose."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

from pydantic import ValidationError

from auditor.connectors.registry import available_connectors
from auditor.sample import SAMPLE_DIR
from auditor.snapshot import PageSnapshot

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "tools" / "build_sample.py"
PAGES = SAMPLE_DIR / "pages"
GENERATED = {
    "02bd9fd6-8f93-4758-87c3-1fb73740a315.json",
    "5530.json",
    "61550001.json",
    "7712345.json",
    "990000000000000042.json",
    "dhs-xc-2026.json",
    "robotics@district.org.json",
}
"""The snapshots tools/build_sample.py writes: one page of each connector's platform."""


def build_sample(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python tools/build_sample.py ARGS`` from the repository root."""
    return subprocess.run(
        [sys.executable, str(BUILD), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def stale_files(stdout: str) -> list[str]:
    """The file names ``--check`` reports out of date (``out of date: PATH (run: ...)``)."""
    return sorted(Path(line.split()[3]).name for line in stdout.splitlines())


def test_the_committed_snapshots_are_what_the_connectors_produce() -> None:
    done = build_sample("--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_the_check_names_each_snapshot_that_differs_or_is_missing(tmp_path: Path) -> None:
    copy = tmp_path / "pages"
    shutil.copytree(PAGES, copy)
    edited = copy / "61550001.json"
    edited.write_text(edited.read_text().replace("DHS Girls Volleyball", "Volleyball", 1))
    (copy / "5530.json").unlink()
    done = build_sample("--check", "--pages", str(copy))
    assert done.returncode == 1
    assert stale_files(done.stdout) == ["5530.json", "61550001.json"]


def test_the_generated_snapshots_are_one_per_connector_platform(tmp_path: Path) -> None:
    done = build_sample("--check", "--pages", str(tmp_path))  # an empty folder: all missing
    assert done.returncode == 1
    assert stale_files(done.stdout) == sorted(GENERATED)
    platforms = {cls.platform for cls in available_connectors().values() if cls.platform}
    fetched = [json.loads((PAGES / name).read_text())["platform"] for name in GENERATED]
    assert sorted(fetched) == sorted(platforms), "one page of each connector's platform"


def test_every_snapshot_is_a_registered_page_and_one_is_broken_on_purpose() -> None:
    with (SAMPLE_DIR / "pages.csv").open(encoding="utf-8", newline="") as f:
        register = {row["external_id"]: row["id"] for row in csv.DictReader(f)}
    snapshots = {}
    for path in PAGES.glob("*.json"):
        data = json.loads(path.read_text())
        assert path.name == f"{data['external_id']}.json"
        snapshots[register[data["external_id"]]] = data
    assert sorted(snapshots) == sorted(register.values()), "a file for every registered page"
    broken = []
    for page_id, data in sorted(snapshots.items()):
        try:
            PageSnapshot.model_validate(data)
        except ValidationError:
            broken.append(page_id)
    assert broken == ["wms-art"]
