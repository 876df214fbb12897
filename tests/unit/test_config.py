"""Config loading: every kind of bad input is one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.errors import ConfigError
from auditor.loading import load_config

ROOT = Path(__file__).resolve().parents[2]

BASE = """
[district]
name = "D"
staff_email_domains = ["district.org"]

[[connectors]]
name = "files"
type = "file"
path = "pages"

[[pages]]
id = "p1"
connector = "files"
external_id = "x"
name = "Chess"
owner = "a@district.org"
supervisor = "b@district.org"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pages").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def error_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = info.value.lines
    assert all(("\n" not in line and str(path) in line) or ".csv:" in line for line in lines)
    return lines


def test_valid_config_loads_with_defaults_and_resolves_paths(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE))
    assert config.pages[0].id == "p1"
    assert config.rules.monitoring_max_days == 14
    assert config.database.url == f"sqlite:///{tmp_path / 'auditor.db'}"
    assert config.reports.output_dir == tmp_path / "audit-report"


def test_unknown_key_names_the_key(tmp_path: Path) -> None:
    lines = error_of(write(tmp_path, BASE.replace('name = "D"', 'name = "D"\ncolour = "red"')))
    assert lines == [f"{tmp_path / 'config.toml'}: district.colour: unknown key"]


def test_secret_pasted_into_config_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = BASE + '\n[email]\npassword = "hunter2-secret"\nusername_env = "not a name!"\n'
    lines = error_of(write(tmp_path, text))
    joined = "\n".join(lines)
    assert "email.password: unknown key (secrets are read from environment variables" in joined
    assert "email.username_env: " in joined and "name of an environment variable" in joined
    assert "hunter2" not in joined and "not a name!" not in joined


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    text = BASE + '\n[rules]\nmonitoring_max_days = "soon"\n'
    (line,) = error_of(write(tmp_path, text))
    assert "rules.monitoring_max_days:" in line and "'soon'" in line


def test_bad_date_names_page_field(tmp_path: Path) -> None:
    text = BASE + 'approved_on = "2026-02-30"\n'
    (line,) = error_of(write(tmp_path, text))
    assert "pages[0].approved_on:" in line and "2026-02-30" in line


def test_unknown_connector_type_lists_installed(tmp_path: Path) -> None:
    (line,) = error_of(write(tmp_path, BASE.replace('type = "file"', 'type = "myspace"')))
    assert "connectors[0].type: unknown connector type 'myspace'" in line
    assert "file" in line


def test_page_naming_missing_connector(tmp_path: Path) -> None:
    (line,) = error_of(write(tmp_path, BASE.replace('connector = "files"', 'connector = "nope"')))
    assert "pages[0] (id 'p1').connector: no [[connectors]] named 'nope'" in line


def test_duplicate_page_id(tmp_path: Path) -> None:
    page = BASE[BASE.index("[[pages]]") :]
    (line,) = error_of(write(tmp_path, BASE + page))
    assert "pages[1] (id 'p1').id: duplicate page id 'p1'" in line


def test_missing_config_file(tmp_path: Path) -> None:
    (line,) = error_of(tmp_path / "absent.toml")
    assert line == f"{tmp_path / 'absent.toml'}: file not found"


def test_invalid_toml(tmp_path: Path) -> None:
    (line,) = error_of(write(tmp_path, BASE + "\n[[pages]\n"))
    assert "not valid TOML" in line


def test_missing_connector_folder(tmp_path: Path) -> None:
    (line,) = error_of(write(tmp_path, BASE.replace('path = "pages"', 'path = "gone"')))
    assert "connectors[0].path: Value error, folder not found:" in line
    assert str(tmp_path / "gone") in line


def test_connector_setting_typo(tmp_path: Path) -> None:
    (line,) = error_of(write(tmp_path, BASE.replace('path = "pages"', 'path = "pages"\npth = 1')))
    assert "connectors[0].pth: unknown key" in line


def test_unknown_rule_in_overrides_and_waivers(tmp_path: Path) -> None:
    text = BASE + (
        '\n[rules.overrides."DS2.nope"]\nenabled = false\n'
        '\n[[waivers]]\npage = "p9"\nrule = "DS2.closed"\nreason = "r"\n'
        'approved_by = "b@district.org"\n'
    )
    lines = error_of(write(tmp_path, text))
    assert any("rules.overrides.'DS2.nope': unknown rule id" in x for x in lines)
    assert any("waivers[0].page: no page with id 'p9'" in x for x in lines)


def test_bad_timezone_and_cron(tmp_path: Path) -> None:
    text = BASE.replace('name = "D"', 'name = "D"\ntimezone = "Mars/Base"') + (
        '\n[schedule]\naudit = "every night"\n'
    )
    lines = error_of(write(tmp_path, text))
    assert any("district.timezone: Value error, unknown time zone" in x for x in lines)
    assert any("schedule.audit: Value error, not a cron expression" in x for x in lines)


def test_pages_csv_rows_join_the_registry(tmp_path: Path) -> None:
    (tmp_path / "register.csv").write_text(
        "id,connector,external_id,name,kind,school,owner,supervisor,approved_by,approved_on,"
        "students\n"
        "p2,files,y,Band,activity,DHS,c@district.org,b@district.org,b@district.org,2026-08-01,"
        "k1@students.district.org;k2@students.district.org\n"
    )
    config = load_config(write(tmp_path, BASE + '\n[registry]\npages_csv = "register.csv"\n'))
    page = config.page("p2")
    assert page.kind == "activity" and len(page.students) == 2
    assert str(page.approved_on) == "2026-08-01"


def test_pages_csv_bad_row_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "register.csv").write_text(
        "id,connector,external_id,name,owner,supervisor,approved_on\n"
        "p2,files,y,Band,c@district.org,b@district.org,2026-08-01\n"
        "p3,files,z,Choir,not-an-email,b@district.org,yesterday\n"
    )
    lines = error_of(write(tmp_path, BASE + '\n[registry]\npages_csv = "register.csv"\n'))
    assert "register.csv:3: column owner: Value error, not an email address" in lines
    assert any(x.startswith("register.csv:3: column approved_on:") for x in lines)


def test_pages_csv_unknown_column_and_duplicate_with_toml(tmp_path: Path) -> None:
    (tmp_path / "register.csv").write_text("id,connector,external_id,name,colour\n")
    (line,) = error_of(write(tmp_path, BASE + '\n[registry]\npages_csv = "register.csv"\n'))
    assert line == "register.csv:1: unknown column 'colour'"
    (tmp_path / "register.csv").write_text(
        "id,connector,external_id,name,owner,supervisor\np1,files,q,Dup,a@district.org,b@district.org\n"
    )
    (line,) = error_of(write(tmp_path, BASE + '\n[registry]\npages_csv = "register.csv"\n'))
    assert "duplicate page id 'p1'" in line


def test_missing_pages_csv(tmp_path: Path) -> None:
    (line,) = error_of(write(tmp_path, BASE + '\n[registry]\npages_csv = "none.csv"\n'))
    assert line.endswith("registry.pages_csv: file not found")


def test_check_config_command_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["check-config", "--config", str(write(tmp_path, BASE))])
    assert ok.exit_code == 0 and "1 page(s)" in ok.output
    bad = write(tmp_path, BASE.replace('type = "file"', 'type = "myspace"'))
    result = runner.invoke(app, ["check-config", "--config", str(bad)])
    assert result.exit_code == 2
    assert "unknown connector type 'myspace'" in result.output
    assert "Traceback" not in result.output


def test_example_config_is_valid() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert len(config.pages) >= 12
    assert config.connectors[0].type == "file"


def test_an_external_id_longer_than_the_database_keeps_is_refused_by_name(tmp_path: Path) -> None:
    (line,) = error_of(
        write(tmp_path, BASE.replace('external_id = "x"', f'external_id = "{"g" * 501}"'))
    )
    assert "external_id" in line and "500" in line
