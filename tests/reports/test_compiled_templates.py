"""Compiled templates kept between processes (reports.environment): a later environment
loads them without compiling, the HTML and the text environments never share one (their
options differ), and a cache folder that cannot be made or written only costs a compile."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment
from jinja2.bccache import FileSystemBytecodeCache

from auditor.reports import environment as env_module


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    """Environments made anew by each test, and again after it."""
    env_module.environment.cache_clear()
    env_module.text_environment.cache_clear()
    yield
    env_module.environment.cache_clear()
    env_module.text_environment.cache_clear()


def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates compiled from here on."""
    names: list[str] = []
    real = Environment.compile

    def counted(self: Environment, source: Any, name: str | None = None, *a: Any, **k: Any) -> Any:
        names.append(str(name))
        return real(self, source, name, *a, **k)

    monkeypatch.setattr(Environment, "compile", counted)
    return names


def test_a_later_process_loads_the_templates_compiled_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load = (
        "from auditor.reports.environment import environment as e; "
        "e().get_template('digest.html.j2')"
    )
    subprocess.run([sys.executable, "-c", load], check=True)  # compiled, and kept, there
    names = compiles(monkeypatch)
    template = env_module.environment().get_template("digest.html.j2")
    assert names == [], "loaded as compiled by the other process"
    assert template.render  # a usable template


def test_the_html_and_text_environments_keep_theirs_apart() -> None:
    html = env_module.environment().bytecode_cache
    text = env_module.text_environment().bytecode_cache
    assert isinstance(html, FileSystemBytecodeCache) and isinstance(text, FileSystemBytecodeCache)
    assert html.pattern != text.pattern
    assert "html" in html.pattern and "text" in text.pattern


def test_a_folder_that_cannot_be_written_only_costs_a_compile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(self: Any, bucket: Any) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(FileSystemBytecodeCache, "dump_bytecode", refused)
    monkeypatch.setattr(FileSystemBytecodeCache, "load_bytecode", lambda self, bucket: None)
    names = compiles(monkeypatch)
    for make in (env_module.environment, env_module.text_environment):
        assert make().get_template("digest.txt.j2").render
    assert names.count("digest.txt.j2") == 2, "compiled by each, kept by neither"


def test_no_safe_folder_means_no_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(not_a_folder))
    assert env_module.environment().bytecode_cache is None
    assert env_module.environment().get_template("digest.html.j2").render
