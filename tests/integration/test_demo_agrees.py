"""``auditor demo`` and ``auditor run --config config.example.toml`` judge the same sample
data as of the same moment (``[district] as_of``), so they give the same results and the
same exit code; the demo says which page is broken on purpose."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import app
from auditor.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]


def results(folder: Path) -> dict[tuple[str, str], str]:
    data = json.loads((folder / "findings.json").read_text())
    return {(p["id"], r["rule"]): r["status"] for p in data["pages"] for r in p["results"]}


def test_the_demo_and_the_example_config_agree(tmp_path: Path) -> None:
    example = (ROOT / "config.example.toml").read_text()
    config = tmp_path / "config.toml"
    config.write_text(
        example.replace('url = "sqlite:///auditor.db"', f'url = "sqlite:///{tmp_path / "x.db"}"')
        .replace('pages_csv = "', f'pages_csv = "{ROOT}/')
        .replace('oneroster_dir = "', f'oneroster_dir = "{ROOT}/')
        .replace('path = "auditor/', f'path = "{ROOT}/auditor/')
    )
    demo = CliRunner().invoke(app, ["demo", "--output", str(tmp_path / "demo")])
    run = CliRunner().invoke(app, ["run", "--config", str(config), "-o", str(tmp_path / "run")])
    assert demo.exit_code == run.exit_code == ExitCode.INCOMPLETE, demo.output + run.output
    assert "broken on purpose" in demo.output
    assert results(tmp_path / "demo") == results(tmp_path / "run")
