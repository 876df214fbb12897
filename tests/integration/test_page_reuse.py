"""Page reuse: a run records a page whose inputs are provably unchanged since its stored
results (same content, configuration, rules, roster, dismissals and waivers, and no
clock boundary crossed) as unchanged, without evaluating it, and stores exactly what a
full evaluation would (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import auditor.connectors.file
from auditor.cli import app
from auditor.db import feedback, store
from auditor.db.engine import make_engine
from auditor.db.models import PageAudit, Result
from auditor.evaluation import DIGEST_MAX, PageEvaluator, fitted_digest
from auditor.loading import load_config
from auditor.people import People
from auditor.results import RuleResult, Severity, Status
from auditor.rules import catalog
from auditor.rules.base import Rule, RuleContext
from auditor.runner import INTERRUPTED, PageOutcome, Runner
from auditor.snapshot import PageSnapshot
from tests.snapshots import passing_snapshot
from tests.stored import stored_findings

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
FRESH = (NOW - DAY).isoformat()  # a moderator active a day before NOW


@dataclass
class Audit:
    """One run: its id, each page's outcome, and the pages it evaluated."""

    run_id: int
    outcomes: dict[str, PageOutcome]
    evaluated: list[str] = field(default_factory=list)


@pytest.fixture
def evaluated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the pages evaluated, in order, by every run of the test."""
    pages: list[str] = []
    evaluate = PageEvaluator.evaluate
    monkeypatch.setattr(
        PageEvaluator,
        "evaluate",
        lambda self, page, *args: pages.append(page.id) or evaluate(self, page, *args),
    )
    return pages


def audit(config: Path, now: datetime, evaluated: list[str], full: bool = False) -> Audit:
    """One run of every page of ``config`` at ``now``."""
    loaded = load_config(config)
    runner = Runner(loaded, make_engine(loaded.database.url), now=now, full=full)
    outcomes: dict[str, PageOutcome] = {}
    before = len(evaluated)
    done = asyncio.run(
        runner.run(loaded.pages, on_page=lambda o: outcomes.__setitem__(o.page.id, o))
    )
    return Audit(done.run_id, outcomes, evaluated[before:])


def findings(config: Path, run: Audit) -> dict[str, list[Any]]:
    """What ``run`` stored of each page, as the reports read it."""
    return stored_findings(make_engine(load_config(config).database.url), run.run_id)


def same_as_full(config: Path, run: Audit, now: datetime, evaluated: list[str]) -> None:
    """Assert that ``run`` stored what a full evaluation at ``now`` stores."""
    full = audit(config, now, evaluated, full=True)
    assert sorted(full.evaluated) == sorted(full.outcomes), "--full evaluates every page"
    assert findings(config, run) == findings(config, full)


def two_pages(
    make_config: Callable[..., Path], db_url: str, as_of: datetime | None = None, **a: Any
) -> Path:
    """Pages ``a`` (its snapshot overridden by ``a``) and ``b``, a post each (``as_of``: the
    instant ``auditor run`` judges at)."""
    post = {"id": "p1", "author_id": "o", "text": "Practice moved to 4pm.", "created_at": FRESH}
    return make_config(
        {
            "a": {"moderation": {"last_moderator_action_at": FRESH}, "posts": [post]} | a,
            "b": {"moderation": {"last_moderator_action_at": FRESH}, "posts": [post]},
        },
        db_url=db_url,
        as_of=as_of,
    )


def test_an_unchanged_second_run_evaluates_and_parses_no_page(
    make_config: Callable[..., Path],
    db_url: str,
    evaluated: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = two_pages(make_config, db_url)
    first = audit(config, NOW, evaluated)
    assert sorted(first.evaluated) == ["a", "b"]
    parsed: list[str] = []
    parse = auditor.connectors.file.parse_snapshot_file
    monkeypatch.setattr(
        auditor.connectors.file,
        "parse_snapshot_file",
        lambda path, *a: parsed.append(path.name) or parse(path, *a),
    )
    second = audit(config, NOW + HOUR, evaluated)
    assert second.evaluated == [] and parsed == [], "unchanged: neither evaluated nor parsed"
    assert all(o.reused and o.error is None for o in second.outcomes.values())
    assert findings(config, second) == findings(config, first)
    engine = make_engine(load_config(config).database.url)
    with Session(engine) as session:
        audits = session.scalars(select(PageAudit).where(PageAudit.run_id == second.run_id))
        assert all(a.same_as is not None and a.status == "audited" for a in audits)
        held = select(Result.id).join(PageAudit).where(PageAudit.run_id == second.run_id)
        assert session.scalars(held).first() is None, "no result rows stored again"
    same_as_full(config, second, NOW + HOUR, evaluated)


def test_the_summary_counts_the_failures_of_re_used_pages(
    make_config: Callable[..., Path], db_url: str, evaluated: list[str]
) -> None:
    config = two_pages(make_config, db_url, settings={"visibility": "public"})
    first = audit(config, NOW, evaluated)
    second = audit(config, NOW + HOUR, evaluated)
    assert second.evaluated == []
    assert second.outcomes["a"].failing_rules == first.outcomes["a"].failing_rules != set()
    assert not second.outcomes["b"].failing_rules


def write_snapshot(config: Path, page: str, **overrides: Any) -> None:
    """Rewrite page ``page``'s snapshot file with ``overrides``."""
    file = config.parent / "pages" / f"ext-{page}.json"
    data = json.loads(file.read_text()) | overrides
    file.write_text(json.dumps(data))


def with_roster(config: Path) -> Path:
    """Point ``config`` at a copy of the sample roster; the copy's users.csv."""
    folder = config.parent / "roster"
    shutil.copytree(Path(str(resources.files("auditor") / "sample" / "roster")), folder)
    text = config.read_text().replace(
        "[database]", '[roster]\noneroster_dir = "roster"\n\n[database]'
    )
    config.write_text(text)
    return folder / "users.csv"


def dismiss(config: Path, page: str, run_id: int) -> None:
    """Store a dismissal of page ``page``'s post ``p1`` for DS3."""
    engine = make_engine(load_config(config).database.url)
    row = {
        "page_id": page,
        "rule_id": "DS3.respectful-speech",
        "post_id": "p1",
        "decision": feedback.DISMISSED,
        "text_hash": "0" * 64,
        "run_id": run_id,
        "reason": "not a violation",
        "decided_by": "it@district.org",
        "decided_at": NOW,
        "excerpt": "Practice moved to 4pm.",
        "author_role": None,
        "source": "command line",
    }
    assert feedback.record(engine, [row]) == 1


WAIVER = """
[[waivers]]
page = "a"
rule = "DS2.moderated"
reason = "the club's adviser reviews posts weekly"
approved_by = "boss@district.org"
"""


@pytest.mark.parametrize("change", ["content", "rules", "roster", "dismissal", "waiver", "page"])
def test_a_changed_input_evaluates_the_page_again(
    change: str, make_config: Callable[..., Path], db_url: str, evaluated: list[str]
) -> None:
    config = two_pages(make_config, db_url)
    users = with_roster(config) if change == "roster" else None
    first = audit(config, NOW, evaluated)
    assert sorted(first.evaluated) == ["a", "b"]
    if change == "content":
        write_snapshot(config, "a", description="Now with a description.")
    elif change == "rules":
        config.write_text(
            config.read_text().replace(
                "[database]", "[rules]\nmonitoring_max_days = 20\n\n[database]"
            )
        )
    elif change == "roster":
        assert users is not None
        users.write_text(
            users.read_text()
            + "t-new,active,2026-08-15T00:00:00Z,true,dhs,teacher,new@district.org,,"
            "New,Teacher,,,new@district.org,,,,,\n"
        )
    elif change == "dismissal":
        dismiss(config, "a", first.run_id)
    elif change == "waiver":
        config.write_text(config.read_text() + WAIVER)
    else:
        config.write_text(config.read_text().replace('name = "Page a"', 'name = "Page A renamed"'))
    second = audit(config, NOW + HOUR, evaluated)
    everything = change in ("rules", "roster")  # inputs of every page
    assert sorted(second.evaluated) == (["a", "b"] if everything else ["a"])
    same_as_full(config, second, NOW + HOUR, evaluated)


def test_a_page_that_errored_or_was_interrupted_last_is_evaluated(
    make_config: Callable[..., Path],
    db_url: str,
    evaluated: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = two_pages(make_config, db_url)
    audit(config, NOW, evaluated)
    evaluate = PageEvaluator.evaluate

    def broken(self: PageEvaluator, page: Any, *args: Any) -> Any:
        if page.id == "a":
            raise RuntimeError("the rules broke")
        return evaluate(self, page, *args)

    with monkeypatch.context() as patch:
        patch.setattr(PageEvaluator, "evaluate", broken)
        failed = audit(config, NOW + HOUR, evaluated, full=True)
    assert failed.outcomes["a"].error and "the rules broke" in failed.outcomes["a"].error
    loaded = load_config(config)
    engine = make_engine(loaded.database.url)
    run_id = store.start_run(engine, loaded, "test", "host:1", 2, {})
    record = store.PageRecord("b", "Page b", NOW, (), INTERRUPTED)
    store.record_pages(engine, run_id, [record])
    store.finish_run(engine, run_id, "interrupted")
    again = audit(config, NOW + 2 * HOUR, evaluated)
    assert sorted(again.evaluated) == ["a", "b"]
    same_as_full(config, again, NOW + 2 * HOUR, evaluated)
    last = audit(config, NOW + 3 * HOUR, evaluated)
    assert last.evaluated == [], "evaluated since: re-used again"


@dataclass(frozen=True)
class Boundary:
    """A page whose results change at ``at`` with unchanged input: its snapshot's
    overrides, config added, and the rule whose result changes."""

    rule: str
    at: datetime
    snapshot: dict[str, Any] = field(default_factory=dict)
    config: str = ""
    approved_on: date | None = None


LOCAL_MIDNIGHT = datetime(2026, 10, 2, 4, tzinfo=UTC)  # 2026-10-02 00:00 in New York
OPEN = {"visibility": "public", "join_policy": "open", "post_moderation": "all"}
BOUNDARIES = {
    "moderator activity ages past the limit": Boundary(
        "DS2.monitoring",
        NOW + 2 * HOUR,
        {"moderation": {"last_moderator_action_at": (NOW - 14 * DAY + 2 * HOUR).isoformat()}},
    ),
    "the days since the last activity grow": Boundary(
        "DS2.monitoring",
        NOW + 22 * HOUR,
        {"moderation": {"last_moderator_action_at": (NOW - 20 * DAY - 2 * HOUR).isoformat()}},
    ),
    "a join request waits past the limit": Boundary(
        "DS2.monitoring",
        NOW + 2 * HOUR,
        {
            "members": [
                {"id": "o", "email": "owner@district.org", "role": "owner"},
                {"id": "s", "email": "boss@district.org", "role": "member"},
                {
                    "id": "r",
                    "email": "x@students.district.org",
                    "role": "member",
                    "state": "requested",
                    "joined_at": (NOW - 14 * DAY + 2 * HOUR).isoformat(),
                },
            ]
        },
    ),
    "an attestation ages a day": Boundary(
        "DS2.monitoring",
        NOW + 2 * HOUR,
        {
            "source": "admin attestation",
            "source_as_of": (NOW - 10 * DAY + 2 * HOUR).isoformat(),
            "source_renew_days": 30,
        },
    ),
    "an approval dated tomorrow comes due": Boundary(
        "DS1.approval", LOCAL_MIDNIGHT, approved_on=date(2026, 10, 2)
    ),
    "a join link expires": Boundary(
        "DS2.invite-only",
        NOW + 2 * HOUR,
        {
            "settings": {
                "visibility": "secret",
                "join_policy": "invite",
                "post_moderation": "all",
                "invite_links": [
                    {"url": "https://x.test/j", "expires_at": (NOW + 2 * HOUR).isoformat()}
                ],
            }
        },
    ),
    "a waiver ends": Boundary(
        "DS2.invite-only",
        LOCAL_MIDNIGHT,
        {"settings": OPEN | {"invite_links": []}},
        WAIVER.replace("DS2.moderated", "DS2.invite-only") + "expires = 2026-10-01\n",
    ),
    "a date ahead of the clock becomes believable": Boundary(
        "DS1.approval", NOW + 2 * HOUR, {"created_at": (NOW + DAY + 2 * HOUR).isoformat()}
    ),
}


@pytest.mark.parametrize("case", list(BOUNDARIES))
def test_past_a_clock_boundary_the_page_is_evaluated_as_a_full_run_would(
    case: str, make_config: Callable[..., Path], db_url: str, evaluated: list[str]
) -> None:
    boundary = BOUNDARIES[case]
    snapshot = {"moderation": {"last_moderator_action_at": FRESH}} | boundary.snapshot
    config = make_config({"a": snapshot}, db_url=db_url, extra=boundary.config)
    if boundary.approved_on is not None:
        text = config.read_text().replace(
            "approved_on = 2026-08-01", f"approved_on = {boundary.approved_on}"
        )
        config.write_text(text)
    first = audit(config, NOW, evaluated)
    assert first.evaluated == ["a"]
    before = audit(config, boundary.at - HOUR, evaluated)
    assert before.evaluated == [], "the boundary is not crossed yet: re-used"
    same_as_full(config, before, boundary.at - HOUR, evaluated)
    after = audit(config, boundary.at + HOUR, evaluated)
    assert after.evaluated == ["a"], "past the boundary: evaluated again"
    same_as_full(config, after, boundary.at + HOUR, evaluated)
    result = {r[0]: r[1:] for r in findings(config, first)["a"][1:]}
    changed = {r[0]: r[1:] for r in findings(config, after)["a"][1:]}
    assert result[boundary.rule] != changed[boundary.rule], "the boundary is a real one"


class ReadsTheClock(Rule):
    """A rule that reads the clock and declares nothing of it."""

    id = "X.clock"
    title = "Reads the clock"
    clause = "DS 1"
    severity = Severity.LOW
    rationale = remediation = "A test rule."

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        return self.passed(f"Checked in {ctx.now:%Y}.")


class IgnoresTheClock(ReadsTheClock):
    """A rule that never reads the clock."""

    id = "X.no-clock"

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        return self.passed("Checked.")


class DeclaresBadly(IgnoresTheClock):
    """A rule whose declaration of when its answer changes is itself broken."""

    id = "X.bad-bound"

    def valid_until(self, snapshot: PageSnapshot, ctx: RuleContext) -> datetime | None:
        raise ValueError("a bug in the declaration")


@pytest.mark.parametrize(
    ("rule", "until"), [(ReadsTheClock(), NOW), (IgnoresTheClock(), None), (DeclaresBadly(), NOW)]
)
def test_a_rule_that_reads_the_clock_undeclared_holds_for_this_instant_only(
    rule: Rule,
    until: datetime | None,
    make_config: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = load_config(make_config({"a": {}}))
    monkeypatch.setattr(catalog, "enabled_rules", lambda limits: [rule])
    page = config.pages[0]
    snapshot = PageSnapshot.model_validate(
        passing_snapshot(page.external_id, page.name, moderated_at=FRESH)
    )
    ctx = RuleContext(page, config.district, config.rules, People.from_config(config), NOW)
    results, _, valid_until = catalog.evaluate_page(snapshot, ctx)
    assert [r.rule for r in results] == [rule.id] and valid_until == until
    assert results[0].status == Status.PASS  # a broken declaration keeps the result


def test_results_purged_under_retention_are_not_re_used(
    make_config: Callable[..., Path], db_url: str, evaluated: list[str]
) -> None:
    config = two_pages(make_config, db_url)
    audit(config, NOW, evaluated)
    engine = make_engine(load_config(config).database.url)
    assert store.purge(engine, store.now() + DAY) == (1, 30)  # the evidence is gone
    again = audit(config, NOW + HOUR, evaluated)
    assert sorted(again.evaluated) == ["a", "b"]
    same_as_full(config, again, NOW + HOUR, evaluated)


def test_the_run_summary_says_how_many_pages_were_not_evaluated_again(
    make_config: Callable[..., Path], db_url: str
) -> None:
    config = two_pages(make_config, db_url, as_of=NOW)  # not the wall clock's day
    first = CliRunner().invoke(
        app, ["run", "-c", str(config), "--output", str(config.parent / "r1")]
    )
    second = CliRunner().invoke(
        app, ["run", "-c", str(config), "--output", str(config.parent / "r2")]
    )
    assert first.exit_code == second.exit_code, second.output
    # the table's row: pages, audited, with failures, could not be audited, not evaluated again
    assert summary_row(first.output)[:5:4] == ["2", "0"]
    assert summary_row(second.output)[:5:4] == ["2", "2"]


def summary_row(output: str) -> list[str]:
    """The cells of the run summary table's one row."""
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines()]
    return next(row for row in rows if row and row[0].isdigit())


def test_the_inputs_name_the_roster_the_rules_read_not_the_files_read_later(
    make_config: Callable[..., Path], db_url: str, evaluated: list[str]
) -> None:
    config = two_pages(make_config, db_url)
    users = with_roster(config)
    loaded = load_config(config)
    runner = Runner(loaded, make_engine(loaded.database.url), now=NOW)  # reads the roster
    users.write_text(  # the export replaced while the run starts
        users.read_text() + "t-new,active,2026-08-15T00:00:00Z,true,dhs,teacher,"
        "new@district.org,,New,Teacher,,,new@district.org,,,,,\n"
    )
    asyncio.run(runner.run(loaded.pages))
    second = audit(config, NOW + HOUR, evaluated)  # reads the new export
    assert sorted(second.evaluated) == ["a", "b"]  # judged by another roster: evaluated


def test_a_clock_set_back_evaluates_the_page_again(
    make_config: Callable[..., Path], db_url: str, evaluated: list[str]
) -> None:
    config = two_pages(make_config, db_url)
    audit(config, NOW, evaluated)
    earlier = audit(config, NOW - HOUR, evaluated)
    assert sorted(earlier.evaluated) == ["a", "b"]
    same_as_full(config, earlier, NOW - HOUR, evaluated)


def test_pages_are_evaluated_and_stored_when_their_inputs_cannot_be_digested(
    make_config: Callable[..., Path],
    db_url: str,
    evaluated: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = two_pages(make_config, db_url, settings={"visibility": "public"})
    full = audit(config, NOW, evaluated, full=True)

    def broken(*_: Any) -> str:
        raise TypeError("a rule loaded from a zip file has no source file")

    monkeypatch.setattr(PageEvaluator, "page_inputs", broken)
    first = audit(config, NOW + HOUR, evaluated)
    second = audit(config, NOW + 2 * HOUR, evaluated)
    assert not any(o.error for o in first.outcomes.values())
    assert sorted(first.evaluated) == sorted(second.evaluated) == ["a", "b"]  # never re-used
    assert findings(config, first) == findings(config, full) == findings(config, second)
    said = [r for r in caplog.records if "could not be made" in r.getMessage()]
    assert len(said) == 2  # once a run


def test_a_connectors_long_content_digest_is_stored_in_the_columns_length() -> None:
    long = "sha512:" + "ab" * 64
    assert fitted_digest(long) is not None and len(fitted_digest(long) or "") <= DIGEST_MAX
    assert fitted_digest(long) == fitted_digest(long) != fitted_digest(long + "c")
    assert fitted_digest("file:abc") == "file:abc" and fitted_digest(None) is None
