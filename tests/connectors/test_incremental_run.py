"""Incremental runs end to end: the runner keeps each page's sync state in the database
(SQLite and PostgreSQL), reads only what changed on the next run, and finds the same."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import respx
from microsoft365_platform import spy_builds
from mock_platforms import TEAM, TENANT, mock_microsoft
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session
from test_microsoft365 import NOW
from test_microsoft365_incremental import delta_answer, new_message
from typer.testing import CliRunner

import auditor.connectors.http
import auditor.connectors.microsoft365
from auditor.cli import app
from auditor.config import Config
from auditor.db import store, sync
from auditor.db.engine import make_engine
from auditor.db.models import SyncState
from auditor.jobs import purge_old_runs
from auditor.loading import load_config
from auditor.logs import register_secret
from auditor.runner import PageOutcome, Runner
from tests.stored import Finding, stored_findings

M365 = f"""
[[connectors]]
name = "m365"
type = "microsoft365"
tenant_id = "{TENANT}"
client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"
client_secret_env = "M365_SECRET"

[[pages]]
id = "debate"
connector = "m365"
external_id = "{TEAM}"
name = "DHS Debate Team"
owner = "owner@district.org"
supervisor = "boss@district.org"
approved_by = "boss@district.org"
approved_on = 2026-08-01
"""


@pytest.fixture
def router(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    """Graph mocked, its clock at the fixtures' moment, no real waits."""

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(auditor.connectors.http, "sleep", no_sleep)
    monkeypatch.setattr(auditor.connectors.microsoft365, "clock", lambda: NOW)
    monkeypatch.setenv("M365_SECRET", "client-secret-value-xyz")
    with respx.mock(assert_all_called=False) as mock:
        mock_microsoft(mock)
        yield mock


@pytest.fixture
def district(make_config: Callable[..., Path], db_url: str) -> tuple[Config, Engine]:
    """A district of one Graph page and one snapshot file, on the test database."""
    path = make_config({"club": {}}, db_url=db_url, extra=textwrap.dedent(M365))
    config = load_config(path)
    return config, make_engine(config.database.url)


@dataclass
class Audited:
    """One run: its id and each page's outcome."""

    run_id: int
    outcomes: dict[str, PageOutcome]

    def __getitem__(self, page_id: str) -> PageOutcome:
        return self.outcomes[page_id]


async def audit(config: Config, engine: Engine, full: bool = False) -> Audited:
    """One run over every page; each page's outcome."""
    outcomes: dict[str, PageOutcome] = {}
    runner = Runner(config, engine, now=NOW, full=full)
    done = await runner.run(config.pages, on_page=lambda o: outcomes.__setitem__(o.page.id, o))
    return Audited(done.run_id, outcomes)


def verdicts(engine: Engine, run: Audited, page_id: str) -> list[Finding]:
    """Everything the run stored of the page, as reports read it: where it was read, and
    each result's rule, status, severity, message and evidence."""
    assert run[page_id].error is None, run[page_id].error
    return stored_findings(engine, run.run_id)[page_id]


def delta_asks(router: respx.MockRouter) -> list[bool]:
    """For each delta request sent, whether it came from a stored delta link."""
    return ["$deltatoken" in c.request.url.params for c in router.routes["delta"].calls]


async def test_second_run_reads_only_changes_and_finds_the_same(
    district: tuple[Config, Engine], router: respx.MockRouter
) -> None:
    config, engine = district
    first = await audit(config, engine)
    with Session(engine) as session:
        rows = {row.page_id: row for row in session.scalars(select(SyncState))}
    assert set(rows) == {"debate"}, "the file connector keeps no state"
    assert rows["debate"].connector == "m365" and rows["debate"].external_id == TEAM
    second = await audit(config, engine)
    with Session(engine) as session:
        after = session.scalars(select(SyncState.updated_at)).one()
    assert after == rows["debate"].updated_at, "an unchanged state is not written again"
    assert verdicts(engine, second, "debate") == verdicts(engine, first, "debate")
    assert verdicts(engine, second, "club") == verdicts(engine, first, "club")
    assert second["debate"].reused and second["club"].reused, "unchanged: not evaluated"
    assert second["debate"].requests < first["debate"].requests, "fewer than the first run"
    assert second["debate"].requests <= 4, "at most 4 on an unchanged run (issue 16)"
    assert delta_asks(router) == [False, True]


async def test_an_unchanged_graph_page_is_neither_built_nor_evaluated_and_stands(
    district: tuple[Config, Engine], router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, engine = district
    first = await audit(config, engine)
    built = spy_builds(monkeypatch)
    second = await audit(config, engine)
    assert built == [] and second["debate"].reused, "told unchanged from the answers alone"
    assert second["debate"].requests <= 4
    full = await audit(config, engine, full=True)
    assert built == ["debate"] and not full["debate"].reused
    assert verdicts(engine, second, "debate") == verdicts(engine, full, "debate")
    assert verdicts(engine, second, "debate") == verdicts(engine, first, "debate")


async def test_a_changed_graph_page_is_evaluated_as_a_full_run_would(
    district: tuple[Config, Engine], router: respx.MockRouter
) -> None:
    config, engine = district
    first = await audit(config, engine)
    message = new_message("1773900000009", "Call Ana at 203-555-0188 for the carpool")
    listing, delta = router.routes["messages"].side_effect, router.routes["delta"].side_effect

    def with_message(request: httpx.Request) -> httpx.Response:
        body = listing(request).json()
        body["value"].insert(0, message)
        return httpx.Response(200, json=body)

    router.routes["messages"].side_effect = with_message
    router.routes["delta"].side_effect = lambda r: (
        delta_answer(message) if "$deltatoken" in r.url.params else delta(r)
    )
    second = await audit(config, engine)
    assert not second["debate"].reused and second["club"].reused
    full = await audit(config, engine, full=True)
    assert verdicts(engine, second, "debate") == verdicts(engine, full, "debate")
    assert verdicts(engine, second, "debate") != verdicts(engine, first, "debate")


async def test_full_flag_ignores_the_stored_state(
    district: tuple[Config, Engine], router: respx.MockRouter
) -> None:
    config, engine = district
    first = await audit(config, engine)
    again = await audit(config, engine, full=True)
    assert delta_asks(router) == [False, False]
    assert again["debate"].requests == first["debate"].requests
    assert verdicts(engine, again, "debate") == verdicts(engine, first, "debate")
    assert not again["debate"].reused and not again["club"].reused, "--full evaluates all"


def test_run_full_option_reaches_the_runner(
    district: tuple[Config, Engine], router: respx.MockRouter, tmp_path: Path
) -> None:
    config, _ = district
    for extra in ([], ["--full"]):
        result = CliRunner().invoke(
            app,
            ["run", "--config", str(config.source), "--output", str(tmp_path / "out"), *extra],
        )
        assert result.exit_code in (0, 1), result.output
    assert delta_asks(router) == [False, False]


async def test_a_week_after_the_last_full_fetch_the_page_is_read_in_full(
    district: tuple[Config, Engine], router: respx.MockRouter
) -> None:
    config, engine = district
    await audit(config, engine)
    with Session(engine) as session, session.begin():
        session.execute(update(SyncState).values(full_fetch_at=store.now() - timedelta(days=8)))
    await audit(config, engine)
    await audit(config, engine)
    assert delta_asks(router) == [False, False, True]
    with Session(engine) as session:
        stamp = session.scalars(select(SyncState.full_fetch_at)).one()
    assert store.now() - stamp < timedelta(minutes=5), "the full fetch was recorded"


async def test_a_corrupt_stored_state_is_read_in_full_not_an_error(
    district: tuple[Config, Engine], router: respx.MockRouter, db_url: str
) -> None:
    config, engine = district
    first = await audit(config, engine)
    garbage = "'{not json'" if db_url.startswith("sqlite") else "'\"just a string\"'"
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE sync_states SET state = {garbage}"))
    loaded = sync.load(engine, "debate", "m365", TEAM)
    assert loaded is not None and loaded.problem in ("not valid JSON", "not a JSON object")
    again = await audit(config, engine)
    assert verdicts(engine, again, "debate") == verdicts(engine, first, "debate")
    assert delta_asks(router) == [False, False]
    stored = sync.load(engine, "debate", "m365", TEAM)
    assert stored is not None and stored.problem is None, "a good state replaced it"


async def test_state_of_another_group_or_connector_is_not_used(
    district: tuple[Config, Engine], router: respx.MockRouter
) -> None:
    config, engine = district
    await audit(config, engine)
    assert sync.load(engine, "debate", "m365", TEAM) is not None
    assert sync.load(engine, "debate", "m365", "another-group") is None
    assert sync.load(engine, "debate", "other-connector", TEAM) is None


async def test_purge_drops_the_state_of_pages_no_longer_registered(
    district: tuple[Config, Engine], router: respx.MockRouter
) -> None:
    config, engine = district
    await audit(config, engine)
    kept = config.model_copy(update={"pages": [p for p in config.pages if p.id != "debate"]})
    assert sync.drop_unregistered(engine, [p.id for p in kept.pages], dry_run=True) == 1
    assert sync.load(engine, "debate", "m365", TEAM) is not None, "a dry run removes nothing"
    purge_old_runs(kept, engine)
    assert sync.load(engine, "debate", "m365", TEAM) is None
    purge_old_runs(config, engine)  # nothing else to drop, and no error


async def test_a_state_holding_a_secret_is_never_stored(
    district: tuple[Config, Engine], router: respx.MockRouter
) -> None:
    config, engine = district
    await audit(config, engine)
    register_secret("s3cret-token-value-Z9")
    now = store.now()
    state = {"v": 1, "link": "https://graph.example/x?access_token=s3cret-token-value-Z9"}
    with engine.begin() as conn:
        sync.save(conn, [("debate", sync.StateWrite("m365", TEAM, state, False))], now)
    assert sync.load(engine, "debate", "m365", TEAM) is None
