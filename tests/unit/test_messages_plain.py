"""Supervisor-facing text in plain language: every rule's fail, warn and not-applicable
message on the sample district (and on a page whose platform reports nothing), and every
rule's fix steps, name no config key, no register column and no bare rule id; and a
message never contradicts its own limit."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.config import Config, PageConfig
from auditor.db.engine import make_engine, upgrade
from auditor.db.models import Result
from auditor.loading import load_config
from auditor.people import People
from auditor.results import Status
from auditor.rulebook import rule_metadata
from auditor.rules.base import RuleContext
from auditor.rules.catalog import all_rules, evaluate, get
from auditor.runner import Runner
from auditor.sample import SAMPLE_AS_OF, SAMPLE_CONFIG
from auditor.snapshot import PageSnapshot

SHOWN = (Status.FAIL.value, Status.WARN.value, Status.NOT_APPLICABLE.value)


def config_keys(model: type[BaseModel]) -> set[str]:
    """Every multi-word key of the config (sections, pages, nested tables), recursively."""
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        if "_" in name.strip("_"):
            keys.add(name.strip("_"))
        for kind in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                keys |= config_keys(kind)
    return keys


KEYS = config_keys(Config) | config_keys(PageConfig)
KEY_PATTERN = re.compile(r"\b(" + "|".join(sorted(map(re.escape, KEYS))) + r")\b")
TUPLE_PATTERN = re.compile(r"\(\s*[a-z]+_[a-z_]+\s*,")  # "(approved_by, approved_on)"
RULE_ID_PATTERN = re.compile(r"\bDS\d+\.[a-z-]+")
# Connector settings ("max_age_days") and API values ("visibility: hidden") in fix steps.
CONNECTOR_KEY = re.compile(r"\b[a-z]+_[a-z_]+\b(?! ?[(=])|\b[a-z_]+: [a-z_]+\)")


def plain_language_problems(text: str) -> list[str]:
    """The config keys, key lists and rule ids ``text`` shows a supervisor."""
    return [
        *KEY_PATTERN.findall(text),
        *TUPLE_PATTERN.findall(text),
        *RULE_ID_PATTERN.findall(text),
    ]


@pytest.fixture(scope="module")
def sample_messages(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str]]:
    """(rule, status, message) of every fail, warn and not-applicable result of the sample."""
    tmp: Path = tmp_path_factory.mktemp("plain")
    config = load_config(SAMPLE_CONFIG)
    config.database.url = f"sqlite:///{tmp / 'sample.db'}"
    engine = make_engine(config.database.url)
    upgrade(engine)
    asyncio.run(Runner(config, engine, now=SAMPLE_AS_OF).run(config.pages))
    with Session(engine) as session:
        rows = session.execute(
            select(Result.rule_id, Result.status, Result.message).where(Result.status.in_(SHOWN))
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def bare_page_messages() -> list[tuple[str, str, str]]:
    """Every rule on a page whose platform reported nothing: the not-applicable reasons."""
    config = load_config(SAMPLE_CONFIG)
    page = config.pages[0]
    ctx = RuleContext(page, config.district, config.rules, People(config.district), SAMPLE_AS_OF)
    snapshot = PageSnapshot(platform="file", external_id="bare")
    results = evaluate(snapshot, ctx)
    return [(r.rule, r.status.value, r.message) for r in results if r.status in SHOWN]


def test_the_checks_cover_every_status_and_know_the_keys(
    sample_messages: list[tuple[str, str, str]],
) -> None:
    statuses = {status for _, status, _ in sample_messages + bare_page_messages()}
    assert statuses == set(SHOWN)
    assert {"monitoring_max_days", "approved_by", "approved_on", "due_days"} <= KEYS
    assert plain_language_problems("records approval (approved_by, approved_on)") == [
        "approved_by",
        "approved_on",
        "(approved_by,",
    ]
    assert plain_language_problems("every monitoring_max_days days") == ["monitoring_max_days"]


def test_no_message_shows_config_keys_or_rule_ids(
    sample_messages: list[tuple[str, str, str]],
) -> None:
    found = {
        (rule, status, message): problems
        for rule, status, message in sample_messages + bare_page_messages()
        if (problems := plain_language_problems(message))
    }
    assert found == {}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.id)
def test_fix_steps_show_no_config_keys(rule: object) -> None:
    assert plain_language_problems(rule.remediation) == []  # type: ignore[attr-defined]


def test_every_platforms_fix_steps_as_a_run_stores_them_show_no_config_keys() -> None:
    config = load_config(SAMPLE_CONFIG)
    infos = rule_metadata(config.rules)
    found = {
        (rule_id, platform): problems
        for rule_id, info in infos.items()
        for platform, steps in info.steps.items()
        if (problems := plain_language_problems(steps) + CONNECTOR_KEY.findall(steps))
    }
    assert found == {}
    canvas = infos["DS2.monitoring"].steps["canvas"]
    assert f"every {config.rules.monitoring_max_days} days" in canvas  # the number, filled in


@pytest.mark.parametrize("late_hours", [1, 23])
def test_monitoring_message_never_contradicts_its_limit(late_hours: int) -> None:
    config = load_config(SAMPLE_CONFIG)
    limit = config.rules.monitoring_max_days
    last = SAMPLE_AS_OF - timedelta(days=limit, hours=late_hours)
    snapshot = PageSnapshot.model_validate(
        {
            "platform": "file",
            "external_id": "late",
            "members": [],
            "posts": [],
            "moderation": {"last_moderator_action_at": last.isoformat(), "pending_reports": 0},
        }
    )
    ctx = RuleContext(
        config.pages[0], config.district, config.rules, People(config.district), SAMPLE_AS_OF
    )

    result = get("DS2.monitoring").check(snapshot, ctx)

    assert result.status == Status.FAIL
    for ago in re.findall(r"(?<!more than )\b(\d+) days? ago", result.message):
        assert int(ago) > limit, result.message
    assert f"more than {limit} days ago" in result.message
    assert last.date().isoformat() in result.message
