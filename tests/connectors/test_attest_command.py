"""``auditor attest new PAGE``: a pre-filled attestation for a Facebook page's admin."""

from __future__ import annotations

import tomllib
from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import app

CONFIG = """
[district]
name = "D"
staff_email_domains = ["district.org"]

[[connectors]]
name = "fb"
type = "facebook"
folder = "attestations"

[[connectors]]
name = "files"
type = "file"
path = "pages"

[[pages]]
id = "dhs-xc"
connector = "fb"
external_id = "771999"
name = "DHS [Cross] Country"
owner = "coach@district.org"
supervisor = "ad@district.org"

[[pages]]
id = "chess"
connector = "files"
external_id = "chess"
name = "Chess"
owner = "coach@district.org"
supervisor = "ad@district.org"
"""


def config(tmp_path: Path) -> Path:
    (tmp_path / "pages").mkdir()
    (tmp_path / "attestations").mkdir()
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


def test_writes_a_prefilled_template_once(tmp_path: Path) -> None:
    path = config(tmp_path)
    result = CliRunner().invoke(app, ["attest", "new", "dhs-xc", "--config", str(path)])
    assert result.exit_code == 0, result.output
    written = tmp_path / "attestations" / "771999.toml"
    text = written.read_text()
    tomllib.loads(text)  # the template is valid TOML before anyone fills it in
    assert "DHS [Cross] Country" in text and "coach@district.org" in text
    again = CliRunner().invoke(app, ["attest", "new", "dhs-xc", "--config", str(path)])
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert written.read_text() == text


def test_refuses_a_page_of_another_connector(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["attest", "new", "chess", "--config", str(config(tmp_path))])
    assert result.exit_code == 2
    assert "file connector 'files'" in result.output
    assert not any((tmp_path / "attestations").iterdir())


def test_an_unknown_page_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["attest", "new", "nope", "--config", str(config(tmp_path))])
    assert result.exit_code == 2
    assert "no page with id 'nope'" in result.output
