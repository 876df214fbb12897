"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and configs.

PostgreSQL tests need ``AUDITOR_TEST_POSTGRES_URL`` (an admin URL such as
``postgresql+psycopg://postgres@127.0.0.1:5433/postgres``); each test gets a fresh
database. Without it they skip, unless ``AUDITOR_REQUIRE_ALL=1`` (set by CI), which
turns every "missing PostgreSQL/Chromium" skip into a failure.
"""

from __future__ import annotations

import logging
import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.snapshots import passing_snapshot

PG_ENV = "AUDITOR_TEST_POSTGRES_URL"
REQUIRE_ALL = os.environ.get("AUDITOR_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; under ``AUDITOR_REQUIRE_ALL=1`` (CI) fail instead."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (AUDITOR_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """The root logger's handlers and level as they were before the test: a command run in
    a test installs a handler on that test's captured stream, which must not outlive it
    (a server thread logging later would write to a closed file)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test; dropped afterwards."""
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        skip_or_fail(f"PostgreSQL not configured: set {PG_ENV}")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"auditor_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'auditor.db'}"
    return request.getfixturevalue("postgres_url")


CONFIG_HEAD = """
[district]
name = "Test District"
web_domains = ["district.org"]
staff_email_domains = ["district.org"]
student_email_domains = ["students.district.org"]
timezone = "America/New_York"

[database]
url = "{db_url}"

[[connectors]]
name = "files"
type = "file"
path = "pages"
"""

PAGE_TEMPLATE = """
[[pages]]
id = "{id}"
connector = "files"
external_id = "{external_id}"
name = "Page {id}"
school = "Test High"
owner = "owner@district.org"
supervisor = "boss@district.org"
approved_by = "boss@district.org"
approved_on = 2026-08-01
"""


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config with a ``pages/`` folder of snapshots; return the config path.

    ``snapshots`` maps page id to a snapshot dict (merged over a passing base) or to a
    raw string written as the file (for broken files). ``as_of`` sets ``[district]
    as_of``: every ``auditor run`` of the config then judges at that instant, not the
    wall clock's.
    """
    import json

    def make(
        snapshots: dict[str, dict | str],
        db_url: str | None = None,
        extra: str = "",
        as_of: datetime | None = None,
    ) -> Path:
        pages = tmp_path / "pages"
        pages.mkdir(exist_ok=True)
        text = CONFIG_HEAD.format(db_url=db_url or f"sqlite:///{tmp_path / 'auditor.db'}")
        if as_of is not None:
            text = text.replace("[database]", f'as_of = "{as_of.isoformat()}"\n\n[database]')
        for page_id, snap in snapshots.items():
            ext = f"ext-{page_id}"
            if isinstance(snap, str):
                (pages / f"{ext}.json").write_text(snap)
            else:
                data = passing_snapshot(ext, f"Page {page_id}") | snap
                (pages / f"{ext}.json").write_text(json.dumps(data))
            text += PAGE_TEMPLATE.format(id=page_id, external_id=ext)
        path = tmp_path / "config.toml"
        path.write_text(textwrap.dedent(text) + extra)
        return path

    return make
