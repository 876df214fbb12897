"""The facebook connector: the base contract, the attestation's mapping onto the snapshot,
its one-line errors, the folder's confinement, staleness and the pre-filled template."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from facebook_platform import ATTESTED_ON, ENV, EXAMPLE, PAGES, SETTINGS, write_example

from auditor.config import DistrictConfig, PageConfig, RulesConfig
from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.facebook import (
    TEMPLATE,
    FacebookConnector,
    FacebookSettings,
    KeyLines,
    attestation_path,
    attestation_template,
    read_attestation,
)
from auditor.connectors.registry import available_connectors
from auditor.people import People
from auditor.results import Status
from auditor.rules import catalog
from auditor.rules.base import RuleContext
from auditor.snapshot import PageSnapshot
from auditor.testkit.connectors import ConnectorContract

REF = PAGES[0]
NAME = f"{REF.external_id}.toml"
ATTESTED = date.fromisoformat(ATTESTED_ON)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # five days after the attestation
TEXT = EXAMPLE.read_text(encoding="utf-8")
DOCS = Path(__file__).parents[2] / "docs" / "connectors"
FIRST_POST = "\n[[posts]]\n"


def connector_for(base: Path, **settings: object) -> FacebookConnector:
    """The connector configured as a config file in ``base`` would configure it."""
    raw = {**SETTINGS, **settings}
    return FacebookConnector("fb", FacebookSettings.model_validate(raw, context={"base_dir": base}))


def parse(
    text: str = TEXT, now: datetime = NOW, ref: PageRef = REF, **settings: object
) -> PageSnapshot:
    """The snapshot of an attestation text, read on ``now``."""
    folder = Path(__file__).parent  # any existing folder: nothing is read from it
    config = FacebookSettings(folder=folder, **settings)
    return read_attestation(NAME, text.encode(), ref, config, now)


def error_of(text: str, now: datetime = NOW) -> str:
    """The one-line error an attestation text raises."""
    with pytest.raises(ConnectorError) as info:
        parse(text, now)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message, message
    assert message.startswith(f"facebook: {NAME}: "), message
    return message


def replace(text: str, old: str, new: str, count: int = 1) -> str:
    """``text`` with ``old`` replaced (which must be there)."""
    assert old in text, old
    return text.replace(old, new, count)


def line_of(text: str, fragment: str, nth: int = 1) -> int:
    """The 1-based line number of the ``nth`` line containing ``fragment``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return hits[nth - 1]


def without_posts(text: str = TEXT) -> str:
    """The example without its ``[[posts]]``."""
    return text[: text.index(FIRST_POST)]


# --- the contract ---------------------------------------------------------------------------


class TestFacebookContract(ConnectorContract):
    platform = "facebook"
    ref = REF

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FacebookConnector:
        for name, value in ENV.items():
            monkeypatch.setenv(name, value)
        write_example(tmp_path / str(SETTINGS["folder"]))
        return connector_for(tmp_path)

    async def test_snapshot_rests_on_the_attestation(self, connector: FacebookConnector) -> None:
        snapshot = await self.fetch(connector)
        assert (
            snapshot.source
            == f"attestation by Kate Morgan <kmorgan@danbury.k12.ct.us> on {ATTESTED_ON}"
        )

    def test_cannot_discover(self, connector: FacebookConnector) -> None:
        assert not connector.can_discover


def test_entry_point_registers_the_connector() -> None:
    assert available_connectors()["facebook"] is FacebookConnector


def test_write_example_returns_the_pages_it_wrote(tmp_path: Path) -> None:
    pages = write_example(tmp_path / "new" / "folder")
    assert pages == PAGES
    assert (tmp_path / "new" / "folder" / NAME).read_text(encoding="utf-8") == TEXT


# --- settings --------------------------------------------------------------------------------


def test_folder_is_relative_to_the_config_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "attest").mkdir()
    settings = FacebookSettings.model_validate({"folder": "attest"}, context={"base_dir": tmp_path})
    assert settings.folder == (tmp_path / "attest").resolve()
    assert (settings.max_age_days, settings.lookback_days) == (90, 30)


def test_missing_folder_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="folder not found"):
        FacebookSettings.model_validate({"folder": "nope"}, context={"base_dir": tmp_path})


# --- mapping ------------------------------------------------------------------------------


def test_example_maps_settings_members_posts_and_moderation() -> None:
    snap = parse()
    assert snap.platform == "facebook" and snap.kind == "group"
    assert snap.name == "DHS Cross Country"
    assert snap.url == "https://www.facebook.com/groups/dhsxc2026"
    assert snap.description is not None and snap.description.startswith("Practice times")
    assert snap.settings.model_dump() == {
        "visibility": "secret",
        "join_policy": "invite",
        "post_moderation": "none",
        "invite_links": None,
        "external_members_allowed": True,
    }
    people = {m.name: (m.id, m.email, m.role, m.state) for m in snap.members or []}
    assert people["Kate Morgan"] == (
        "kmorgan@danbury.k12.ct.us",
        "kmorgan@danbury.k12.ct.us",
        "owner",
        "active",
    )
    assert people["Daniel Reyes"][2:] == ("moderator", "active")
    assert people["Marco Ruiz"] == ("name:Marco Ruiz", None, "member", "active")
    assert people["Tyler Brandt"][2:] == ("member", "requested")
    requested = next(m for m in snap.members or [] if m.state == "requested")
    assert requested.joined_at == datetime(2026, 10, 30, tzinfo=UTC)
    posts = snap.posts or []
    assert [p.id for p in posts] == [f"post-{n}" for n in range(1, 8)]
    assert posts[1].author_id == "kmorgan@danbury.k12.ct.us"  # author given by email
    assert posts[2].author_id == "leo.ruiz@students.danbury.k12.ct.us"
    assert posts[5].author_id == "name:Marco Ruiz"
    assert posts[0].created_at == datetime(2026, 10, 19, 19, 5, tzinfo=UTC)
    assert "203-555-0147" in posts[2].text
    assert snap.moderation is not None
    assert snap.moderation.last_moderator_action_at == datetime(2026, 11, 15, tzinfo=UTC)
    assert snap.fetched_at == NOW
    assert snap.unavailable == {
        "invite_links": "Facebook's invite links are not part of the attestation."
    }
    assert snap.warnings == [] and snap.limits == {}
    assert snap.coverage == {"posts": "posts of the 30 days before the attestation of 2026-11-15"}


def test_docs_example_maps_like_the_fixture() -> None:
    text = (DOCS / "facebook-attestation.example.toml").read_text(encoding="utf-8")
    assert parse(text) == parse()


def settings_text(**values: str) -> str:
    """The example with ``[settings]`` keys set to the given TOML values."""
    text = TEXT
    for key, value in values.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    return text


@pytest.mark.parametrize(
    ("privacy", "hide", "approvers", "visibility", "join", "warned"),
    [
        ('"Public"', '"Visible"', '"Only admins and moderators"', "public", "open", False),
        ('"Private"', '"Visible"', '"Only admins and moderators"', "closed", "request", False),
        ('"Private"', '"Visible"', '"Anyone in the group"', "closed", "request", True),
        ('"Private"', '"Hidden"', '"Only admins and moderators"', "secret", "invite", False),
        ('"Private"', '"Hidden"', '"Anyone in the group"', "secret", "request", True),
        ('"private"', '"  hidden "', '"only ADMINS and  moderators"', "secret", "invite", False),
    ],
)
def test_privacy_and_membership_mapping(
    privacy: str, hide: str, approvers: str, visibility: str, join: str, warned: bool
) -> None:
    snap = parse(
        settings_text(privacy=privacy, hide_group=hide, who_can_approve_member_requests=approvers)
    )
    assert (snap.settings.visibility, snap.settings.join_policy) == (visibility, join)
    assert any("Anyone in the group" in w for w in snap.warnings) is warned


def test_public_group_needs_no_approver_setting() -> None:
    text = settings_text(privacy='"Public"', hide_group='"Visible"')
    text = re.sub(r"(?m)^who_can_approve_member_requests = .*\n", "", text)
    assert parse(text).settings.join_policy == "open"


@pytest.mark.parametrize(
    ("who", "approval", "expected"),
    [
        ('"Anyone in the group"', "true", "all"),
        ('"Anyone in the group"', "false", "none"),
        ('"Anyone in the group"', '"On"', "all"),
        ('"Anyone in the group"', '"off"', "none"),
        ('"Admins and moderators"', "false", "moderators-only"),
        ('"Only admins"', "true", "moderators-only"),
    ],
)
def test_post_moderation_mapping(who: str, approval: str, expected: str) -> None:
    snap = parse(settings_text(who_can_post=who, post_approval=approval))
    assert snap.settings.post_moderation == expected


@pytest.mark.parametrize(
    ("role", "status", "expected_role", "expected_state"),
    [
        ("Admin", "Joined", "owner", "active"),
        ("Moderator", "Joined", "moderator", "active"),
        ("Member", "Invited", "member", "invited"),
        ("Member", "Member request", "member", "requested"),
        ("member", "blocked", "member", "banned"),
    ],
)
def test_role_and_status_mapping(
    role: str, status: str, expected_role: str, expected_state: str
) -> None:
    block = f'[[members]]\nname = "Pat Quinn"\nrole = "{role}"\nstatus = "{status}"\n\n'
    snap = parse(replace(TEXT, FIRST_POST, f"\n{block}[[posts]]\n"))
    pat = next(m for m in snap.members or [] if m.name == "Pat Quinn")
    assert (pat.role, pat.state) == (expected_role, expected_state)


def test_role_and_status_default_to_a_joined_member() -> None:
    block = '\n[[members]]\nname = "Pat Quinn"\n\n[[posts]]\n'
    snap = parse(replace(TEXT, FIRST_POST, block))
    pat = next(m for m in snap.members or [] if m.name == "Pat Quinn")
    assert (pat.id, pat.role, pat.state, pat.email) == ("name:Pat Quinn", "member", "active", None)


def test_url_defaults_to_the_group_address_and_blank_about_is_none() -> None:
    text = replace(TEXT, 'url = "https://www.facebook.com/groups/dhsxc2026"', 'url = ""')
    text = re.sub(r"(?m)^about = .*$", 'about = ""', text)
    snap = parse(text)
    assert snap.url == "https://www.facebook.com/groups/dhs-xc-2026"
    assert snap.description is None


def test_no_posts_attested_is_unavailable_with_the_reason() -> None:
    snap = parse(without_posts())
    assert snap.posts is None
    reason = snap.unavailable["posts"]
    assert "lists no posts" in reason and ATTESTED_ON in reason and "Kate Morgan" in reason


def test_posts_before_the_lookback_window_are_left_out_and_said_in_the_coverage() -> None:
    old = '[[posts]]\ndate = 2026-09-01\nauthor = "Kate Morgan"\ntext = "Welcome back!"\n\n'
    text = replace(TEXT, FIRST_POST, f"\n{old}[[posts]]\n")
    snap = parse(text)
    assert len(snap.posts or []) == 7 and all(p.text != "Welcome back!" for p in snap.posts or [])
    assert snap.coverage == {
        "posts": "posts of the 30 days before the attestation of 2026-11-15 (1 older attested "
        "post(s) left out)"
    }
    wider = parse(text, lookback_days=90)
    assert (wider.posts or [])[0].text == "Welcome back!"
    assert wider.coverage == {"posts": "posts of the 90 days before the attestation of 2026-11-15"}


def test_unknown_author_is_warned_and_left_unattributed() -> None:
    text = replace(TEXT, 'author = "Marco Ruiz"', 'author = "Someone Else"')
    snap = parse(text)
    assert (snap.posts or [])[5].author_id is None
    assert any(w.startswith("posts[5]: the author is not in [[members]]") for w in snap.warnings)


def test_author_names_match_ignoring_case_and_spacing() -> None:
    text = replace(TEXT, 'author = "Leo Ruiz"', 'author = "  leo   RUIZ "')
    assert (parse(text).posts or [])[2].author_id == "leo.ruiz@students.danbury.k12.ct.us"


def test_attestation_by_a_non_admin_is_warned() -> None:
    text = replace(
        TEXT,
        'email = "kmorgan@danbury.k12.ct.us"\n\n[settings]',
        'email = "ava.diaz@students.danbury.k12.ct.us"\n\n[settings]',
    )
    assert any(
        "not listed in [[members]] as an Admin or Moderator" in w for w in parse(text).warnings
    )


def test_members_fewer_than_the_count_are_a_limit_and_more_a_warning() -> None:
    snap = parse(replace(TEXT, "member_count = 6", "member_count = 40"))
    assert snap.limits == {
        "members": "the group shows 40 members but [[members]] lists 6 who joined"
    }
    assert not any("shows 40" in w for w in snap.warnings)
    district = DistrictConfig(staff_email_domains=["danbury.k12.ct.us"])
    page = PageConfig(
        id=REF.id,
        connector="fb",
        external_id=REF.external_id,
        name="DHS Cross Country",
        owner="kmorgan@danbury.k12.ct.us",
        supervisor="dreyes@danbury.k12.ct.us",
    )
    context = RuleContext(page, district, RulesConfig(), People(district), NOW)
    staff = catalog.get("DS2.staff-admins")
    assert staff.check(snap, context).status == Status.PASS, "what was listed passes"
    result = next(r for r in catalog.evaluate(snap, context) if r.rule == staff.id)
    assert result.status == Status.WARN and "lists 6 who joined" in result.message
    snap = parse(replace(TEXT, "member_count = 6", "member_count = 4"))
    assert snap.limits == {}
    assert any("shows 4 members but [[members]] lists 6 who joined" in w for w in snap.warnings)


# --- staleness and DS2.monitoring ----------------------------------------------------------------


def monitoring(snapshot: PageSnapshot, now: datetime) -> tuple[Status, str]:
    """DS2.monitoring's verdict on the snapshot at ``now`` (default rule settings)."""
    district = DistrictConfig(name="Danbury", staff_email_domains=["danbury.k12.ct.us"])
    page = PageConfig(
        id=REF.id,
        connector="fb",
        external_id=REF.external_id,
        name="DHS Cross Country",
        owner="kmorgan@danbury.k12.ct.us",
        supervisor="dreyes@danbury.k12.ct.us",
    )
    ctx = RuleContext(page, district, RulesConfig(), People(district), now)
    result = catalog.get("DS2.monitoring").check(snapshot, ctx)
    return result.status, result.message


def fresh_text() -> str:
    """The example without its old member request (which DS2.monitoring also flags)."""
    return replace(TEXT, 'status = "Member request"', 'status = "Invited"')


def test_fresh_attestation_counts_as_the_admins_review() -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    status, message = monitoring(parse(fresh_text(), now), now)
    assert status == Status.PASS and "2026-11-15" in message


@pytest.mark.parametrize("age", [91, 200])
def test_stale_attestation_fails_monitoring_naming_its_age(age: int) -> None:
    now = datetime.combine(ATTESTED + timedelta(days=age), datetime.min.time(), UTC)
    snap = parse(fresh_text(), now)
    assert any(
        f"The attestation is {age} days old (max_age_days is 90)" in w for w in snap.warnings
    )
    status, message = monitoring(snap, now)
    assert status == Status.FAIL and f"last reviewed {age} days ago" in message
    assert "every 90 days" in message and "attestation by" in message


def test_an_attestation_within_its_age_is_not_judged_by_platform_activity() -> None:
    # 30 days old: past [rules] monitoring_max_days (14), but attestations are renewed on
    # their own cycle (max_age_days, 90), so the admin's review still counts.
    now = datetime.combine(ATTESTED + timedelta(days=30), datetime.min.time(), UTC)
    status, message = monitoring(parse(fresh_text(), now), now)
    assert status == Status.PASS and "due again within 60 days" in message


def test_max_age_days_setting_decides_the_staleness_warning() -> None:
    now = datetime.combine(ATTESTED + timedelta(days=40), datetime.min.time(), UTC)
    assert not any("days old" in w for w in parse(now=now).warnings)
    assert any(
        "40 days old (max_age_days is 30)" in w for w in parse(now=now, max_age_days=30).warnings
    )


# --- errors: one line, naming the file, the field and the line -----------------------------------


def test_malformed_toml_names_the_line() -> None:
    text = replace(TEXT, 'privacy = "Private"', 'privacy = "Private')
    message = error_of(text)
    assert f"line {line_of(text, 'privacy = ')}: not valid TOML" in message


def test_missing_required_field_names_its_table_line() -> None:
    text = re.sub(r"(?m)^privacy = .*\n", "", TEXT)
    message = error_of(text)
    assert f"line {line_of(text, '[settings]')}: settings.privacy: missing" in message


def test_missing_table_is_named() -> None:
    start, end = TEXT.index("[attestation]"), TEXT.index("[settings]")
    message = error_of(TEXT[:start] + TEXT[end:])
    assert "attestation: missing" in message


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        (
            'privacy = "Private"',
            'privacy = "Closed"',
            "settings.privacy",
            'unknown value \'Closed\'; write "Public" or "Private"',
        ),
        (
            'hide_group = "Hidden"',
            'hide_group = "Secret"',
            "settings.hide_group",
            "unknown value 'Secret'",
        ),
        (
            'hide_group = "Hidden"',
            "hide_group = true",
            "settings.hide_group",
            "must be a quoted text",
        ),
        (
            'who_can_post = "Anyone in the group"',
            'who_can_post = "Everyone"',
            "settings.who_can_post",
            '"Anyone in the group", "Admins and moderators" or "Only admins"',
        ),
        (
            "post_approval = false",
            'post_approval = "sometimes"',
            "settings.post_approval",
            "write true or false",
        ),
        ('role = "Moderator"', 'role = "Owner"', "members[1].role", "unknown value 'Owner'"),
        (
            'status = "Member request"',
            'status = "Pending"',
            "members[6].status",
            "unknown value 'Pending'",
        ),
        ("member_count = 6", 'member_count = "six"', "group.member_count", "valid integer"),
        ("date = 2026-11-15", "date = 2026-13-15", None, "not valid TOML"),
        ("date = 2026-11-15", 'date = "15/11/2026"', "attestation.date", "not a date"),
        ('privacy = "Private"', 'privasy = "Private"', "settings.privasy", "unknown key"),
        (
            'url = "https://www.facebook.com/groups/dhsxc2026"',
            'url = "https://example.com/x"',
            "group.url",
            "must be the group's address",
        ),
        (
            'format = "facebook-attestation/1"',
            'format = "facebook-attestation/9"',
            "format",
            'must be "facebook-attestation/1"',
        ),
    ],
)
def test_bad_value_names_line_and_field(
    old: str, new: str, field: str | None, expected: str
) -> None:
    text = replace(TEXT, old, new)
    message = error_of(text)
    assert expected in message, message
    assert f"line {line_of(text, new)}: " in message, message
    if field:
        assert f": {field}: " in message, message


def test_blanks_say_not_filled_in() -> None:
    text = replace(TEXT, 'privacy = "Private"', 'privacy = ""')
    text = replace(text, "date = 2026-11-15", 'date = ""')
    message = error_of(text)
    assert f"line {line_of(text, 'date = ')}: attestation.date: not filled in" in message
    assert f"line {line_of(text, 'privacy = ')}: settings.privacy: not filled in" in message


def test_bad_email_is_named_without_echoing_it() -> None:
    text = replace(TEXT, 'email = "rosa.diaz@example.net"', 'email = "rosa at home"')
    message = error_of(text)
    assert (
        f"line {line_of(text, 'rosa at home')}: members[4].email: not an email address" in message
    )
    assert "rosa at home" not in message


def test_more_than_three_errors_are_counted() -> None:
    text = TEXT
    for key in (
        "privacy",
        "hide_group",
        "who_can_post",
        "post_approval",
        "who_can_approve_member_requests",
    ):
        text = re.sub(rf"(?m)^{key} = .*$", f'{key} = ""', text)
    message = error_of(text)
    assert message.count("not filled in") == 3 and message.endswith("(and 2 more)")


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        (
            'hide_group = "Hidden"',
            'privacy = "Public"\nhide_group = "Hidden"',
            "settings.hide_group",
            'a "Public" group is always "Visible"',
        ),
        (
            'who_can_approve_member_requests = "Only admins and moderators"\n',
            "",
            "settings.who_can_approve_member_requests",
            'required for a "Private" group',
        ),
        (
            'id = "dhs-xc-2026"',
            'id = "dhs-band-page"',
            "group.id",
            "is not this page's external_id 'dhs-xc-2026'",
        ),
        ("date = 2026-11-15", "date = 2026-11-22", "attestation.date", "is in the future"),
        (
            "date = 2026-11-14T16:30:00-05:00",
            "date = 2026-11-16T09:00:00-05:00",
            "posts[6].date",
            "is after the attestation date",
        ),
        (
            'name = "Rosa Diaz"\nemail = "rosa.diaz@example.net"',
            'name = "Rosa Diaz"\nemail = "ava.diaz@students.danbury.k12.ct.us"',
            "members[4]",
            "the same person as members[3] (same email)",
        ),
        (
            'name = "Tyler Brandt"',
            'name = "Marco  Ruiz"',
            "members[6]",
            "the same person as members[5] (same name; add their email)",
        ),
    ],
)
def test_contradictions_name_line_and_field(old: str, new: str, field: str, expected: str) -> None:
    text = replace(TEXT, old, new)
    if old.startswith("hide_group"):
        text = replace(text, 'privacy = "Private"\n', "")
    message = error_of(text)
    assert f": {field}: {expected}" in message, message
    assert re.search(r": line \d+: ", message), message


def test_attestation_dated_a_day_ahead_is_accepted_for_time_zones() -> None:
    text = replace(TEXT, "date = 2026-11-15", "date = 2026-11-21")
    snap = parse(text, now=datetime(2026, 11, 20, 23, 0, tzinfo=UTC))
    assert snap.source is not None and snap.source.endswith("on 2026-11-21")


def test_contradiction_line_is_the_offending_key() -> None:
    text = replace(TEXT, "date = 2026-11-14T16:30:00-05:00", "date = 2026-11-16")
    assert f"line {line_of(text, 'date = 2026-11-16')}: posts[6].date" in error_of(text)


def test_ambiguous_author_asks_for_an_email() -> None:
    text = replace(TEXT, 'name = "Tyler Brandt"', 'name = "Leo Ruiz"')
    message = error_of(text)
    assert "posts[2].author: more than one member has that name: write their email" in message


def test_not_utf8_is_one_line() -> None:
    with pytest.raises(ConnectorError, match=r"^facebook: dhs-xc-2026\.toml: not UTF-8 text$"):
        read_attestation(NAME, b"\xff\xfe bad", REF, FacebookSettings(folder=Path.cwd()), NOW)


def test_key_lines_skip_multiline_strings() -> None:
    text = 'a = 1\ntext = """\nb = 2\n"""\nb = 3\n[[t]]\nx = 1\n[[t]]\nx = 2\n'
    lines = KeyLines(text)
    assert lines.line_of(("b",)) == 5
    assert lines.line_of(("t", 1, "x")) == 9
    assert lines.line_of(("t", 1, "missing")) == 8
    assert lines.line_of(("nowhere",)) is None


# --- the folder: missing files, and nothing read from outside it ---------------------------------


async def test_missing_attestation_names_the_expected_file(tmp_path: Path) -> None:
    (tmp_path / "facebook-attestations").mkdir()
    async with connector_for(tmp_path) as conn:
        with pytest.raises(ConnectorError) as info:
            await conn.fetch_page(REF)
    message = str(info.value)
    assert message.startswith("facebook: no attestation for external_id 'dhs-xc-2026'")
    assert str(tmp_path / "facebook-attestations" / NAME) in message


async def test_file_errors_come_through_fetch_page(tmp_path: Path) -> None:
    folder = tmp_path / "facebook-attestations"
    write_example(folder)
    (folder / NAME).write_text(replace(TEXT, 'privacy = "Private"', 'privacy = "Closed"'))
    async with connector_for(tmp_path) as conn:
        with pytest.raises(
            ConnectorError, match=r"^facebook: dhs-xc-2026\.toml: line \d+: settings\.privacy"
        ):
            await conn.fetch_page(REF)


@pytest.mark.parametrize(
    "external_id", ["../secret", "/etc/passwd", "sub/x", "..", ".", "", "a\\..\\b", "x\0y"]
)
async def test_ids_that_leave_the_folder_are_refused(tmp_path: Path, external_id: str) -> None:
    folder = tmp_path / "facebook-attestations"
    write_example(folder)
    (tmp_path / "secret.toml").write_text('password = "hunter2"\n')
    async with connector_for(tmp_path) as conn:
        with pytest.raises(ConnectorError, match="outside the folder") as info:
            await conn.fetch_page(PageRef("p", external_id))
    assert "hunter2" not in str(info.value)


async def test_symlink_out_of_the_folder_is_refused_unread(tmp_path: Path) -> None:
    folder = tmp_path / "facebook-attestations"
    folder.mkdir()
    outside = tmp_path / "private.toml"
    outside.write_text('[group]\nid = "student data: 555-0100"\n')
    (folder / "linked.toml").symlink_to(outside)
    async with connector_for(tmp_path) as conn:
        with pytest.raises(ConnectorError, match="outside the folder") as info:
            await conn.fetch_page(PageRef("p", "linked"))
    assert "555-0100" not in str(info.value) and "student" not in str(info.value)


def test_symlink_inside_the_folder_is_followed(tmp_path: Path) -> None:
    write_example(tmp_path)
    (tmp_path / "alias.toml").symlink_to(tmp_path / NAME)
    assert attestation_path(tmp_path, "alias") == (tmp_path / NAME).resolve()


# --- the template ----------------------------------------------------------------------------


def registered_page(**changes: str) -> PageConfig:
    """The example's page as the district registers it."""
    fields = {
        "id": REF.id,
        "connector": "fb",
        "external_id": REF.external_id,
        "name": "DHS Cross Country",
        "owner": "kmorgan@danbury.k12.ct.us",
        "supervisor": "dreyes@danbury.k12.ct.us",
    }
    return PageConfig(**{**fields, **changes})


ANSWERS = {
    "url": '"https://www.facebook.com/groups/dhsxc2026"',
    "member_count": "2",
    "about": '""',
    "date": "2026-11-15",
    "name": '"Kate Morgan"',
    "privacy": '"Private"',
    "hide_group": '"Hidden"',
    "who_can_approve_member_requests": '"Only admins and moderators"',
    "who_can_post": '"Anyone in the group"',
    "post_approval": "true",
    "role": '"Admin"',
}


def fill(template: str) -> str:
    """Every ``key = ""`` blank of a template answered; names made unique per member."""
    names = iter(['"Kate Morgan"', '"Kate Morgan"', '"Daniel Reyes"'])

    def answer(match: re.Match[str]) -> str:
        key = match.group(1)
        value = next(names) if key == "name" else ANSWERS[key]
        return f"{key} = {value}"

    return re.sub(r'(?m)^(\w+) = ""', answer, template)


def test_shipped_template_is_package_data() -> None:
    shipped = resources.files("auditor.connectors").joinpath(TEMPLATE)
    assert shipped.is_file()
    assert "{{external_id}}" in shipped.read_text(encoding="utf-8")


def test_template_is_prefilled_for_the_page() -> None:
    text = attestation_template(registered_page())
    data = tomllib.loads(text)  # valid TOML even before it is filled in
    assert data["group"]["id"] == "dhs-xc-2026" and data["group"]["name"] == "DHS Cross Country"
    assert data["attestation"]["email"] == "kmorgan@danbury.k12.ct.us"
    assert [m["email"] for m in data["members"]] == [
        "kmorgan@danbury.k12.ct.us",
        "dreyes@danbury.k12.ct.us",
    ]
    assert "{{" not in text and "# >>>" not in text
    assert "Save it as dhs-xc-2026.toml" in text and "register: dhs-cross-country" in text


def test_unfilled_template_names_its_first_blanks() -> None:
    text = attestation_template(registered_page())
    message = error_of(text)
    assert f"line {line_of(text, 'date = ')}: attestation.date: not filled in" in message


def test_filled_template_parses() -> None:
    snap = parse(fill(attestation_template(registered_page())))
    assert snap.settings.visibility == "secret" and snap.settings.post_moderation == "all"
    assert {(m.email, m.role) for m in snap.members or []} == {
        ("kmorgan@danbury.k12.ct.us", "owner"),
        ("dreyes@danbury.k12.ct.us", "owner"),
    }
    assert snap.posts is None and "posts" in snap.unavailable
    assert snap.warnings == []


def test_template_escapes_names_and_lists_one_member_when_owner_supervises() -> None:
    page = registered_page(name='Robotics "A" Team \\ Pit', supervisor="kmorgan@danbury.k12.ct.us")
    text = attestation_template(page)
    assert tomllib.loads(text)["group"]["name"] == 'Robotics "A" Team \\ Pit'
    snap = parse(fill(text))
    assert snap.name == 'Robotics "A" Team \\ Pit'
    assert [m.email for m in snap.members or []] == ["kmorgan@danbury.k12.ct.us"]


def test_every_result_says_it_rests_on_the_attestation() -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    snapshot = parse(fresh_text(), now)
    district = DistrictConfig(staff_email_domains=["danbury.k12.ct.us"])
    page = PageConfig(
        id="dhs-xc",
        connector="fb",
        external_id=snapshot.external_id,
        name="DHS Cross Country",
        owner="kmorgan@danbury.k12.ct.us",
        supervisor="dreyes@danbury.k12.ct.us",
    )
    results = catalog.evaluate(
        snapshot, RuleContext(page, district, RulesConfig(), People(district), now)
    )
    assert results and all("attestation by" in r.message for r in results)
