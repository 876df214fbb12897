"""Pass, fail and not-applicable cases of each structural rule (DS 1, DS 2, DS 9)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from auditor.config import PageConfig, RuleOverride, RulesConfig, WaiverConfig
from auditor.people import People
from auditor.results import Severity, Status
from auditor.rules import catalog
from auditor.rules.base import RuleContext
from auditor.snapshot import PageSnapshot
from auditor.waivers import apply_waivers
from tests.rules.helpers import BOSS, DISTRICT, NOW, OWNER, STUDENT, page


def snap(**kw: Any) -> PageSnapshot:
    data: dict[str, Any] = {
        "platform": "google-groups",
        "external_id": "x",
        "kind": "group",
        "created_at": "2026-09-01T10:00:00+00:00",
        "settings": {"visibility": "secret", "join_policy": "invite", "post_moderation": "all"},
        "members": [OWNER, BOSS, STUDENT],
        "posts": [],
        "moderation": {"last_moderator_action_at": "2026-11-18T10:00:00+00:00"},
    }
    for key, value in kw.items():
        if key in ("visibility", "join_policy", "post_moderation", "invite_links"):
            data["settings"] = {**data["settings"], key: value}
        else:
            data[key] = value
    return PageSnapshot.model_validate(data)


def check(rule_id: str, snapshot: PageSnapshot, pg: PageConfig | None = None, **rules: Any):
    ctx = RuleContext(
        page=pg or page(),
        district=DISTRICT,
        rules=RulesConfig(**rules),
        people=People(DISTRICT),
        now=NOW,
    )
    return catalog.get(rule_id).check(snapshot, ctx)


# DS 1 ---------------------------------------------------------------------------------


def test_approval_pass_when_approved_before_creation() -> None:
    r = check("DS1.approval", snap())
    assert r.status == Status.PASS and "boss@district.org" in r.message


def test_approval_fails_without_record() -> None:
    r = check("DS1.approval", snap(), page(approved_by=None, approved_on=None))
    assert r.status == Status.FAIL and "does not say who approved it or when" in r.message


def test_approval_fails_when_created_before_approval() -> None:
    r = check("DS1.approval", snap(created_at="2026-07-15T10:00:00+00:00"))
    assert r.status == Status.FAIL and "2026-07-15" in r.message


def test_approval_fails_on_self_approval_and_future_date() -> None:
    assert check("DS1.approval", snap(), page(approved_by="owner@district.org")).status == "fail"
    assert check("DS1.approval", snap(), page(approved_on=date(2027, 1, 1))).status == "fail"


def test_approval_without_creation_date_passes_and_says_so() -> None:
    r = check("DS1.approval", snap(created_at=None))
    assert r.status == Status.PASS and "does not report when the group was created" in r.message


def test_approval_compares_dates_in_district_timezone() -> None:
    # 02:00 UTC on 1 Aug is still 31 July in Connecticut: created before approval.
    r = check("DS1.approval", snap(created_at="2026-08-01T02:00:00+00:00"))
    assert r.status == Status.FAIL


# DS 2 closed / moderated / group-not-friends -------------------------------------------


@pytest.mark.parametrize(
    ("visibility", "status"),
    [("public", "fail"), ("closed", "pass"), ("secret", "pass"), (None, "not-applicable")],
)
def test_closed(visibility: str | None, status: str) -> None:
    assert check("DS2.closed", snap(visibility=visibility)).status == status


def test_not_applicable_uses_connector_reason() -> None:
    s = snap(visibility=None, unavailable={"visibility": "Export lacks privacy settings."})
    assert check("DS2.closed", s).message == "Export lacks privacy settings."


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        ("none", "fail"),
        ("new-members", "warn"),
        ("all", "pass"),
        ("moderators-only", "pass"),
        (None, "not-applicable"),
    ],
)
def test_moderated(mode: str | None, status: str) -> None:
    assert check("DS2.moderated", snap(post_moderation=mode)).status == status


@pytest.mark.parametrize(
    ("kind", "status"),
    [("profile", "fail"), ("page", "fail"), ("group", "pass"), (None, "not-applicable")],
)
def test_group_not_friends(kind: str | None, status: str) -> None:
    assert check("DS2.group-not-friends", snap(kind=kind)).status == status


# DS 2 invite-only ----------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "status"), [("open", "fail"), ("request", "fail")])
def test_invite_only_fails_on_open_or_request(policy: str, status: str) -> None:
    assert check("DS2.invite-only", snap(join_policy=policy)).status == status


def test_invite_only_fails_on_unlimited_or_permanent_link_only() -> None:
    links = [
        {"url": "https://x/forever", "expires_at": None, "max_uses": 1, "uses": 0},
        {"url": "https://x/unlimited", "expires_at": "2026-12-01T00:00:00+00:00", "max_uses": 0},
        {"url": "https://x/expired", "expires_at": "2026-11-01T00:00:00+00:00", "max_uses": None},
        {"url": "https://x/used-up", "expires_at": None, "max_uses": 5, "uses": 5},
        {"url": "https://x/fine", "expires_at": "2026-11-27T00:00:00+00:00", "max_uses": 1},
    ]
    r = check("DS2.invite-only", snap(invite_links=links))
    assert r.status == Status.FAIL
    flagged = {e.value: e.note for e in r.evidence if e.kind == "link"}
    assert flagged == {
        "https://x/forever": "never expires",
        "https://x/unlimited": "unlimited uses",
    }


def test_invite_only_pass_and_not_applicable() -> None:
    assert check("DS2.invite-only", snap()).status == Status.PASS
    assert check("DS2.invite-only", snap(join_policy=None)).status == Status.NOT_APPLICABLE


# DS 2 supervisor access / staff admins ---------------------------------------------------


def test_supervisor_access() -> None:
    assert check("DS2.supervisor-access", snap()).status == Status.PASS
    r = check("DS2.supervisor-access", snap(members=[OWNER, STUDENT]))
    assert r.status == Status.FAIL and "not a member" in r.message
    invited = {**BOSS, "state": "invited"}
    r = check("DS2.supervisor-access", snap(members=[OWNER, invited]))
    assert r.status == Status.FAIL and "invited" in r.message
    assert check("DS2.supervisor-access", snap(members=None)).status == Status.NOT_APPLICABLE


def test_supervisor_matched_case_insensitively() -> None:
    boss = {**BOSS, "email": "Boss@District.ORG"}
    assert check("DS2.supervisor-access", snap(members=[OWNER, boss])).status == Status.PASS


def test_staff_admins() -> None:
    assert check("DS2.staff-admins", snap()).status == Status.PASS
    student_admin = {**STUDENT, "role": "manager", "name": "Kid"}
    parent_mod = {"id": "pm", "email": "mom@gmail.com", "role": "moderator"}
    r = check("DS2.staff-admins", snap(members=[OWNER, student_admin, parent_mod]))
    assert r.status == Status.FAIL
    notes = {e.ref: e.note for e in r.evidence}
    assert notes == {"s1": "manager; a student", "pm": "moderator; not district staff"}
    assert check("DS2.staff-admins", snap(members=None)).status == Status.NOT_APPLICABLE


def test_staff_admins_student_subdomain_is_not_staff() -> None:
    district = DISTRICT.model_copy(update={"student_email_domains": []})
    ctx = RuleContext(page(), district, RulesConfig(), People(district), NOW)
    admin = {**STUDENT, "role": "owner"}
    r = catalog.get("DS2.staff-admins").check(snap(members=[OWNER, admin]), ctx)
    assert r.status == Status.FAIL


def test_staff_admins_warns_when_admin_has_no_email() -> None:
    anon = {"id": "9912", "name": "CoolKid", "role": "moderator"}
    r = check("DS2.staff-admins", snap(members=[OWNER, anon]))
    assert r.status == Status.WARN and r.evidence[0].ref == "9912"


# DS 2 monitoring -----------------------------------------------------------------------


def test_monitoring_pass_recent_moderator_action() -> None:
    assert check("DS2.monitoring", snap()).status == Status.PASS


def test_monitoring_counts_owner_posts_as_activity() -> None:
    post = {"id": "1", "author_id": "o", "created_at": "2026-11-19T10:00:00+00:00", "text": "hi"}
    assert check("DS2.monitoring", snap(moderation=None, posts=[post])).status == Status.PASS


def test_monitoring_fails_when_stale_or_requests_wait() -> None:
    old = snap(moderation={"last_moderator_action_at": "2026-09-01T00:00:00+00:00"})
    r = check("DS2.monitoring", old)
    assert r.status == Status.FAIL and "80 days ago" in r.message
    waiting = {"id": "r", "state": "requested", "joined_at": "2026-10-01T00:00:00+00:00"}
    r = check("DS2.monitoring", snap(members=[OWNER, BOSS, waiting]))
    assert r.status == Status.FAIL and "1 join request(s)" in r.message
    r = check("DS2.monitoring", old, monitoring_max_days=120)
    assert r.status == Status.PASS


def test_monitoring_warns_on_pending_reports_and_na_without_data() -> None:
    reports = {"last_moderator_action_at": "2026-11-19T00:00:00+00:00", "pending_reports": 3}
    assert check("DS2.monitoring", snap(moderation=reports)).status == Status.WARN
    r = check("DS2.monitoring", snap(moderation=None, posts=None))
    assert r.status == Status.NOT_APPLICABLE


def test_misrepresentation_is_manual() -> None:
    assert check("DS9.misrepresentation", snap()).status == Status.MANUAL


# Catalog, overrides and waivers --------------------------------------------------------


def test_catalog_metadata_complete_and_one_result_per_rule() -> None:
    ctx = RuleContext(page(), DISTRICT, RulesConfig(), People(DISTRICT), NOW)
    results = catalog.evaluate(snap(), ctx)
    assert [r.rule for r in results] == catalog.rule_ids()
    for rule in catalog.all_rules():
        assert rule.title and rule.rationale and rule.clause_text and rule.remediation


def test_overrides_disable_and_change_severity() -> None:
    rules = RulesConfig(
        overrides={
            "DS2.closed": RuleOverride(enabled=False),
            "DS2.invite-only": RuleOverride(severity=Severity.LOW),
        }
    )
    ctx = RuleContext(page(), DISTRICT, rules, People(DISTRICT), NOW)
    results = {r.rule: r for r in catalog.evaluate(snap(join_policy="open"), ctx)}
    assert "DS2.closed" not in results
    assert results["DS2.invite-only"].severity == Severity.LOW


def test_waiver_applies_until_it_expires() -> None:
    r = check("DS2.closed", snap(visibility="public"))
    waiver = WaiverConfig(
        page="p",
        rule="DS2.closed",
        reason="Public showcase",
        approved_by="boss@district.org",
        expires=date(2026, 12, 31),
    )
    (waived,) = apply_waivers("p", [r], [waiver], date(2026, 11, 20))
    assert waived.status == Status.WAIVED and "Public showcase" in waived.message
    (expired,) = apply_waivers("p", [r], [waiver], date(2027, 1, 1))
    assert expired.status == Status.FAIL and "expired on 2026-12-31" in expired.message
    (other_page,) = apply_waivers("q", [r], [waiver], date(2026, 11, 20))
    assert other_page.status == Status.FAIL
