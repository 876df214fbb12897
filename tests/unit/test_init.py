"""``auditor init``: a commented starter config and an empty register that check out."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import app
from auditor.starter import example_config


def test_init_writes_a_config_that_checks_out(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "district")])
    assert result.exit_code == 0, result.output
    config = tmp_path / "district" / "config.toml"
    text = config.read_text()
    assert "sample" not in text and "as_of" not in text
    for section in ("[district]", "[email]", "[schedule]", "[rules]", "[retention]", "[registry]"):
        assert section in text
    assert (tmp_path / "district" / "pages.csv").read_text().startswith("id,connector,")
    checked = CliRunner().invoke(app, ["check-config", "--config", str(config)])
    assert checked.exit_code == 0, checked.output
    assert "0 page(s)" in checked.output


def test_init_never_replaces_a_config(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("# mine\n")
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert (tmp_path / "config.toml").read_text() == "# mine\n"


def test_the_example_config_ships_with_the_package() -> None:
    root = Path(__file__).resolve().parents[2]
    assert example_config() == (root / "config.example.toml").read_text()


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(app, ["init", str(blocker / "district")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
