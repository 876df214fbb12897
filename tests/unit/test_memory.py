"""The allocator setting of ``auditor.memory``: glibc's malloc arenas limited once, before
any thread, unless the user's ``MALLOC_ARENA_MAX`` says otherwise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from auditor import memory

PROBE = "from auditor.memory import limit_malloc_arenas; print(limit_malloc_arenas())"


def _run(env: dict[str, str]) -> str:
    """What a fresh interpreter prints for :data:`PROBE`."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_on_glibc_the_arenas_are_limited() -> None:
    assert _run({"PATH": "/usr/bin:/bin"}) == "True"


def test_the_users_own_setting_is_left_alone() -> None:
    assert _run({"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "8"}) == "False"


def test_no_c_library_found_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(memory.ctypes.util, "find_library", lambda name: None)
    assert memory.limit_malloc_arenas() is False


def test_the_command_sets_it_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "limit_malloc_arenas", lambda: calls.append("arenas"))
    monkeypatch.setattr(cli, "app", lambda: calls.append("app"))
    cli.main()
    assert calls == ["arenas", "app"]
