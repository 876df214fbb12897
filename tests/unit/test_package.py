"""What gets installed: one import root, and a public plugin API that says what it holds."""

from __future__ import annotations

import inspect
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import auditor.plugin

ROOT = Path(__file__).resolve().parents[2]


def test_plugin_exports_exactly_what_it_lists() -> None:
    public = {name for name in vars(auditor.plugin) if not name.startswith("_")}
    modules_and_helpers = {"TYPE_CHECKING", "Any", "annotations"}
    assert public - modules_and_helpers <= set(auditor.plugin.__all__)
    for name in auditor.plugin.__all__:
        member = getattr(auditor.plugin, name)  # the test kits too, imported on first use
        assert member is not None, name
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__doc__, f"{name} has no docstring"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        auditor.plugin.Nope  # noqa: B018


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("page_auditor-*.whl"))


def test_the_wheel_has_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {
        name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")
    }
    assert tops == {"auditor"}


def test_the_wheel_carries_data_and_entry_points(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for needed in (
        "auditor/connectors/remediation/google-groups.toml",
        "auditor/connectors/facebook_attestation.template.toml",
        "auditor/reports/templates/run_report.html.j2",
        "auditor/migrations/versions/0002_run_rules.py",
        "auditor/sample/config.toml",
        "auditor/config.example.toml",
    ):
        assert needed in names, needed
    points = next(n for n in names if n.endswith("entry_points.txt"))
    text = archive.read(points).decode()
    assert "[page_auditor.rules]" in text and "DS2.closed = auditor.rules.closed:Closed" in text
    assert "microsoft365 = auditor.connectors.microsoft365:Microsoft365Connector" in text


def test_the_demo_runs_from_any_folder(tmp_path: Path) -> None:
    # Outside the repository only the installed names exist (auditor.reports, not reports).
    done = subprocess.run(
        [sys.executable, "-m", "auditor", "demo", "--output", str(tmp_path / "out")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 3, done.stderr[-2000:]  # one sample page is broken on purpose
    assert (tmp_path / "out" / "index.html").stat().st_size > 10_000
