"""Fixtures of the report tests: the sample district audited once into a temporary
SQLite database, its report folder, a seeded database for history tests, and Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sample_audit import SampleRun, audit_sample
from sqlalchemy import Engine

from auditor.db.engine import make_engine, upgrade

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRun]:
    """The sample district audited once per test module (reports under ``out``)."""
    tmp = tmp_path_factory.mktemp("sample")
    run = audit_sample(tmp, base_url="https://reports.example.org/audit/")
    yield run
    run.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def skip_or_fail(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``skip_or_fail`` of the suite's root conftest (both conftests share a module name,
    so it is looked up among the registered plugins rather than imported)."""
    root = Path(__file__).resolve().parents[1] / "conftest.py"
    for plugin in request.config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", None) or "/").resolve() == root:
            return plugin.skip_or_fail
    raise RuntimeError(f"{root} is not loaded")


@pytest.fixture(scope="module")
def browser(skip_or_fail: Callable[[str], None]) -> Iterator[Any]:
    """Playwright driving Debian's Chromium (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright is not installed")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as pw:
        # launch() gives Chromium a fresh temporary profile (user-data-dir) and removes it.
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An empty, migrated database (SQLite, and PostgreSQL when configured)."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()
