"""Builders shared by the rule tests: a district, a page, a snapshot and a rule context."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from auditor.config import DistrictConfig, PageConfig, RulesConfig
from auditor.people import People
from auditor.roster import Roster, load_roster
from auditor.rules.base import RuleContext
from auditor.snapshot import PageSnapshot
from auditor.text.matcher import TextMatcher

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
DISTRICT = DistrictConfig(
    name="D",
    web_domains=["district.org"],
    staff_email_domains=["district.org"],
    student_email_domains=["students.district.org"],
    timezone="America/New_York",
)
OWNER = {"id": "o", "email": "owner@district.org", "role": "owner", "name": "Olive Owner"}
BOSS = {"id": "b", "email": "boss@district.org", "role": "member"}
STUDENT = {"id": "s1", "email": "kid@students.district.org", "role": "member"}

USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"
)


def user_row(
    sid: str, role: str, email: str = "", user_ids: str = "", agents: str = "", status: str = ""
) -> str:
    """One users.csv line."""
    return (
        f'{sid},{status},,true,org,{role},{email},"{user_ids}",{sid.upper()},Test,,,{email},,,'
        f'"{agents}",,\n'
    )


def write_roster(folder: Path, users: list[str], classes: str = "", enrollments: str = "") -> Path:
    """Write a OneRoster bundle into ``folder`` (classes/enrollments only when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users.csv").write_text(USERS_HEADER + "".join(users))
    if classes:
        (folder / "classes.csv").write_text(
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
            "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n" + classes
        )
    if enrollments:
        (folder / "enrollments.csv").write_text(
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
            "primary,beginDate,endDate\n" + enrollments
        )
    return folder


def standard_roster(folder: Path) -> Roster:
    """Staff, two students of class C1 (one with a parent), a student of another class."""
    write_roster(
        folder,
        [
            user_row("t1", "teacher", "owner@district.org"),
            user_row("t2", "teacher", "", "{discord:900}"),
            user_row("s1", "student", "kid@students.district.org", agents="g1"),
            user_row("s2", "student", "kid2@students.district.org", "{discord:901}"),
            user_row("s3", "student", "other@students.district.org"),
            user_row("g1", "parent", "mom@example.com", "{discord:902}", agents="s1"),
            user_row("g2", "guardian", "dad@example.com", agents="s2"),
        ],
        classes="C1,active,,Chess,9,,CHESS-1,scheduled,,sch,,,,\n",
        enrollments="e1,,,C1,sch,s1,student,,,\ne2,,,C1,sch,s2,student,,,\ne3,,,C1,sch,t1,teacher,,,\n",
    )
    return load_roster(folder)


def page(**kw: Any) -> PageConfig:
    """The registered test page (owner, supervisor and approval set), with ``kw`` over it."""
    base = dict(
        id="p",
        connector="c",
        external_id="x",
        name="Chess",
        owner="owner@district.org",
        supervisor="boss@district.org",
        approved_by="boss@district.org",
        approved_on=date(2026, 8, 1),
    )
    return PageConfig(**(base | kw))


def snap(**kw: Any) -> PageSnapshot:
    """A snapshot of the test page (secret, invite-only, every post moderated), ``kw`` over it."""
    data: dict[str, Any] = {
        "platform": "google-groups",
        "external_id": "x",
        "kind": "group",
        "settings": {"visibility": "secret", "join_policy": "invite", "post_moderation": "all"},
        "members": [OWNER, BOSS, STUDENT],
        "posts": [],
    }
    return PageSnapshot.model_validate(data | kw)


def posts(*texts: str, author: str = "o") -> list[dict[str, Any]]:
    """Posts with these texts, all by ``author``."""
    return [{"id": f"p{i}", "author_id": author, "text": t} for i, t in enumerate(texts)]


def ctx(
    roster: Roster | None = None, rules: RulesConfig | None = None, **page_kw: Any
) -> RuleContext:
    """A context for the test page in the test district, with the content detectors for
    ``rules``, as the runner makes it."""
    rules = rules or RulesConfig(allowed_domains=["maxpreps.com"])
    return RuleContext(
        page=page(**page_kw),
        district=DISTRICT,
        rules=rules,
        people=People(DISTRICT, roster),
        now=NOW,
        text=matcher(rules),
    )


def matcher(rules: RulesConfig | None = None) -> TextMatcher:
    """The content detectors for ``rules`` in the test district. They are immutable, so the
    tests share one per set of rules (making them takes a quarter of a second)."""
    return _matcher((rules or RulesConfig()).model_dump_json())


@cache
def _matcher(rules: str) -> TextMatcher:
    """The detectors for rules given as JSON (hashable, unlike the model)."""
    return TextMatcher(RulesConfig.model_validate_json(rules), DISTRICT)
