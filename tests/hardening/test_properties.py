"""Property-based tests of the hardening issue: snapshots with arbitrary Unicode (lone
surrogates, NULs, bidi controls), sizes and dates go through the file connector, the rules,
the store (SQLite and PostgreSQL) and every renderer. Every page ends with results or a
page error, never a crash, and every HTML output parses as valid HTML (html5lib, strict).

Examples per target: ``HYPOTHESIS_PROFILE=ci`` (set by .ci/run) runs 500; the default 60.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import count
from pathlib import Path

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from auditor.config import Config, PageConfig
from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.file import FileConnector, FileSettings
from auditor.db import store
from auditor.db.engine import make_engine
from auditor.email.alerts import alert_mails
from auditor.email.digests import preview
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.results import Status
from auditor.rulebook import prepare_database, rule_metadata
from auditor.rules import catalog
from auditor.snapshot import PageSnapshot
from tests.rules.helpers import ctx

settings.register_profile(
    "ci",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ANY_CHAR = st.characters(exclude_categories=())  # surrogates, controls, bidi marks too
SPICE = st.sampled_from(["\u202e", "\u2066", "\0", "\ud800", "<script>", "[/bold]", "=1+1", "é"])
TEXT = st.one_of(st.text(ANY_CHAR, max_size=80), st.lists(SPICE, max_size=5).map("".join))
NAME = st.text(ANY_CHAR, min_size=1, max_size=700)
WHEN = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda d: d.isoformat())
MEMBER = st.fixed_dictionaries(
    {"id": st.text(ANY_CHAR, min_size=1, max_size=30)},
    optional={
        "name": TEXT,
        "email": st.one_of(st.emails(), TEXT),
        "role": st.sampled_from(["owner", "manager", "moderator", "member"]),
        "state": st.sampled_from(["active", "invited", "requested", "banned"]),
        "joined_at": WHEN,
    },
)
POST = st.fixed_dictionaries(
    {"id": st.text(ANY_CHAR, min_size=1, max_size=20), "text": st.text(ANY_CHAR, max_size=400)},
    optional={
        "author_id": TEXT,
        "created_at": WHEN,
        "links": st.lists(TEXT, max_size=3),
        "parent_id": TEXT,
    },
)
SNAPSHOT = st.fixed_dictionaries(
    {"platform": NAME, "external_id": st.just("ext")},
    optional={
        "name": NAME,
        "url": TEXT,
        "description": TEXT,
        "kind": st.sampled_from(["group", "profile", "page"]),
        "created_at": WHEN,
        "links": st.lists(TEXT, max_size=3),
        "settings": st.fixed_dictionaries(
            {},
            optional={
                "visibility": st.sampled_from(["public", "closed", "secret"]),
                "join_policy": st.sampled_from(["open", "request", "invite"]),
                "post_moderation": st.sampled_from(["none", "new-members", "all"]),
            },
        ),
        "members": st.lists(MEMBER, max_size=8),
        "posts": st.lists(POST, max_size=8),
        "moderation": st.fixed_dictionaries({}, optional={"last_moderator_action_at": WHEN}),
        "unavailable": st.dictionaries(st.sampled_from(["posts", "members"]), TEXT, max_size=2),
        "warnings": st.lists(TEXT, max_size=3),
        "source": TEXT,
        "limits": st.dictionaries(st.sampled_from(["posts", "members"]), TEXT, max_size=2),
    },
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("snapshots")


@given(data=SNAPSHOT)
async def test_the_file_connector_reads_any_snapshot_or_says_why(folder: Path, data: dict) -> None:
    (folder / "ext.json").write_text(json.dumps(data), encoding="utf-8")  # \ud800 as an escape
    connector = FileConnector("files", FileSettings.model_validate({"path": str(folder)}))
    try:
        snapshot = await connector.fetch_page(PageRef("p", "ext"))
    except ConnectorError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    stored = snapshot.model_dump_json().encode("utf-8")  # valid UTF-8: no lone surrogate
    assert b"\\u0000" not in stored
    assert snapshot.name is None or len(snapshot.name) <= 500


@given(raw=st.binary(max_size=300))
async def test_the_file_connector_turns_any_bytes_into_a_page_error(
    folder: Path, raw: bytes
) -> None:
    (folder / "ext.json").write_bytes(raw)
    connector = FileConnector("files", FileSettings.model_validate({"path": str(folder)}))
    with pytest.raises(ConnectorError):
        await connector.fetch_page(PageRef("p", "ext"))


def valid(data: dict) -> PageSnapshot | None:
    try:
        return PageSnapshot.model_validate(data)
    except ValueError:
        return None


@given(data=SNAPSHOT)
def test_every_rule_judges_any_snapshot(data: dict) -> None:
    snapshot = valid(data)
    if snapshot is None:
        return
    results = catalog.evaluate(snapshot, ctx())
    assert [r.rule for r in results] == catalog.rule_ids()
    crashed = [(r.rule, r.message) for r in results if r.status == Status.ERROR]
    assert not crashed


PAGE = PageConfig(
    id="p",
    connector="files",
    external_id="ext",
    name="Page p",
    owner="owner@district.org",
    supervisor="boss@district.org",
    approved_by="boss@district.org",
    approved_on=date(2026, 8, 1),
)


@pytest.fixture
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database for all the examples of a test (SQLite, and PostgreSQL when
    configured; hypothesis calls the test many times within one fixture)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'p.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    config = Config(pages=[PAGE])
    prepare_database(engine, config.rules)
    store.sync_registry(engine, config)
    yield engine
    engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", ["sqlite", "postgres"], indirect=True)


RUNS = count()


@given(data=SNAPSHOT)
def test_the_store_keeps_any_page_and_every_renderer_writes_valid_html(
    database: Engine, tmp_path_factory: pytest.TempPathFactory, data: dict
) -> None:
    snapshot = valid(data)
    results = catalog.evaluate(snapshot, ctx()) if snapshot is not None else []
    error = None if snapshot is not None else "not a valid page snapshot"
    config = Config(pages=[PAGE])
    run_id = store.start_run(database, config, "test", "h:1:x", 1, rule_metadata(config.rules))
    store.record_page(database, run_id, "p", "Page p", store.now(), snapshot, results, error)
    store.finish_run(database, run_id, "complete")

    view = load_run(database, run_id)
    out = tmp_path_factory.mktemp(f"out{next(RUNS)}")
    write_report(view, out, config)
    parser = html5lib.HTMLParser(strict=True)
    pages = sorted(out.rglob("*.html"))
    assert pages
    for page in pages:
        parser.parse(page.read_text(encoding="utf-8"))
    json.loads((out / "findings.json").read_text(encoding="utf-8"))
    config.email.it_recipients = ["it@district.org"]
    for mail in [
        *preview(view, config),
        *alert_mails(view, config, [(p, r) for p in view.pages for r in p.failing]),
    ]:
        parser.parse(mail.html)
        assert "\n" not in mail.subject
