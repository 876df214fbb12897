"""The OneRoster reader, roster-aware People and roster errors at config and run start."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import ConfigError
from auditor.loading import load_config
from auditor.people import People
from auditor.roster import cached_roster, load_roster
from auditor.runner import Runner
from auditor.snapshot import Member
from tests.rules.helpers import DISTRICT, page, standard_roster, user_row, write_roster


def test_reads_users_classes_enrollments_and_guardians(tmp_path: Path) -> None:
    roster = standard_roster(tmp_path)
    assert {u.sourced_id for u in roster.class_students("C1")} == {"s1", "s2"}
    assert roster.class_students("CHESS-1") == roster.class_students("C1")  # by classCode
    assert [g.sourced_id for g in roster.guardians_of(roster.users["s1"])] == ["g1"]
    # linked from the guardian's side only
    assert [g.sourced_id for g in roster.guardians_of(roster.users["s2"])] == ["g2"]
    assert roster.by_platform_id("Discord", "901")[0].sourced_id == "s2"
    assert roster.by_email("KID@students.district.org")[0].sourced_id == "s1"


def test_optional_files_may_be_missing(tmp_path: Path) -> None:
    roster = load_roster(write_roster(tmp_path, [user_row("t1", "teacher", "a@district.org")]))
    assert roster.classes == {} and roster.class_students("any") == []


def test_tobedeleted_rows_are_skipped(tmp_path: Path) -> None:
    folder = write_roster(
        tmp_path,
        [user_row("s1", "student", "k@x.org"), user_row("s9", "student", status="tobedeleted")],
        enrollments="e1,,,C1,sch,s9,student,,,\n",
    )
    roster = load_roster(folder)
    assert set(roster.users) == {"s1"} and roster.class_students("C1") == []


@pytest.mark.parametrize(
    ("users", "enrollments", "message"),
    [
        ([user_row("u1", "coach")], "", "users.csv: line 2: role 'coach' is not a OneRoster"),
        ([user_row("u1", "teacher", user_ids="discord=1")], "", "users.csv: line 2: userIds"),
        (
            [user_row("u1", "teacher"), user_row("u1", "student")],
            "",
            "users.csv: line 3: duplicate sourcedId 'u1'",
        ),
        ([user_row("u1", "teacher", "not-an-email")], "", "line 2: email 'not-an-email'"),
        (
            [user_row("u1", "teacher")],
            "e1,,,C1,sch,ghost,student,,,\n",
            "enrollments.csv: line 2: userSourcedId 'ghost' is not in users.csv",
        ),
        (
            [user_row("u1", "teacher")],
            "e1,,,C1,sch,u1,janitor,,,\n",
            "enrollments.csv: line 2: role 'janitor'",
        ),
    ],
)
def test_bad_rows_name_file_and_line(
    tmp_path: Path, users: list[str], enrollments: str, message: str
) -> None:
    write_roster(tmp_path, users, enrollments=enrollments)
    with pytest.raises(ConfigError) as err:
        load_roster(tmp_path)
    assert any(message in line for line in err.value.lines), err.value.lines


def test_missing_users_file_and_columns(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"users\.csv: file not found"):
        load_roster(tmp_path)
    (tmp_path / "users.csv").write_text("sourcedId,email\nu1,a@b.org\n")
    with pytest.raises(ConfigError, match=r"line 1: missing column\(s\) role"):
        load_roster(tmp_path)


def test_cached_roster_rereads_a_changed_export(tmp_path: Path) -> None:
    write_roster(tmp_path, [user_row("u1", "teacher", "a@district.org")])
    first = cached_roster(tmp_path)
    assert cached_roster(tmp_path) is first
    write_roster(tmp_path, [user_row("u1", "teacher", "a@district.org"), user_row("u2", "aide")])
    assert set(cached_roster(tmp_path).users) == {"u1", "u2"}


def test_people_prefer_roster_roles_then_domains(tmp_path: Path) -> None:
    people = People(DISTRICT, standard_roster(tmp_path))
    parent_on_staff_domain = Member(id="m", email="mom@example.com")
    assert people.kind_of(parent_on_staff_domain) == "guardian"
    assert people.kind_of(Member(id="900"), "discord") == "staff"  # by userIds platform id
    assert people.kind_of(Member(id="900"), "groupme") == "unknown"  # other platform
    assert people.kind_of(Member(id="x", email="new@district.org")) == "staff"  # domain fallback
    assert people.is_page_staff(Member(id="900"), page(), "discord")


def test_page_students_from_class_or_list(tmp_path: Path) -> None:
    people = People(DISTRICT, standard_roster(tmp_path))
    assert {s.sourced_id for s in people.page_students(page(roster_class="C1")) or []} == {
        "s1",
        "s2",
    }
    listed = people.page_students(page(students=["s3", "new@students.district.org"])) or []
    assert [s.sourced_id for s in listed] == ["s3", "new@students.district.org"]
    assert people.page_students(page()) is None
    no_roster = People(DISTRICT).page_students(page(students=["A@students.district.org"]))
    assert no_roster is not None and no_roster[0].email == "a@students.district.org"


def test_config_names_unknown_roster_class_and_students(make_config, tmp_path: Path) -> None:
    path = make_config({"p1": {}})
    standard_roster(tmp_path / "roster")
    text = path.read_text().replace(
        "approved_on = 2026-08-01\n", 'approved_on = 2026-08-01\nroster_class = "NOPE"\n'
    )
    path.write_text(text + '\n[roster]\noneroster_dir = "roster"\n')
    with pytest.raises(ConfigError, match=r"pages\[0\] \(id 'p1'\)\.roster_class: no class 'NOPE'"):
        load_config(path)


def test_broken_roster_is_a_config_error_at_load_and_run_start(make_config, tmp_path: Path) -> None:
    path = make_config({"p1": {}})
    write_roster(tmp_path / "roster", [user_row("u1", "wizard")])
    path.write_text(path.read_text() + '\n[roster]\noneroster_dir = "roster"\n')
    with pytest.raises(ConfigError, match=r"users\.csv: line 2: role 'wizard'"):
        load_config(path)
    write_roster(tmp_path / "roster", [user_row("u1", "teacher", "owner@district.org")])
    config = load_config(path)
    write_roster(tmp_path / "roster", [user_row("u1", "teacher", "bad-email")])
    with pytest.raises(ConfigError, match=r"email 'bad-email'"):
        Runner(config, engine=None)  # type: ignore[arg-type]


def test_students_without_roster_must_be_emails(make_config) -> None:
    path = make_config({"p1": {}})
    text = path.read_text().replace(
        "approved_on = 2026-08-01\n", 'approved_on = 2026-08-01\nstudents = ["s-17"]\n'
    )
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"students: 's-17' is not an email"):
        load_config(path)


def test_supervisor_found_by_platform_id_where_the_platform_shows_no_email(
    tmp_path: Path,
) -> None:
    from auditor.rules import catalog
    from tests.rules.helpers import ctx, snap

    roster = load_roster(
        write_roster(
            tmp_path / "r",
            [
                user_row("t1", "teacher", "owner@district.org"),
                user_row("t3", "administrator", "boss@district.org", "{discord:903}"),
            ],
        )
    )
    members = [
        {"id": "901", "name": "Olive", "role": "owner"},
        {"id": "903", "name": "Bo", "role": "member"},  # the supervisor, no email shown
    ]
    page_snap = snap(platform="discord", members=members)
    rule = catalog.get("DS2.supervisor-access")
    assert rule.check(page_snap, ctx(roster)).status == "pass"
    assert rule.check(page_snap, ctx(None)).status == "fail"  # without the roster: unknown
    other = snap(platform="groupme", members=members)  # the id is a Discord id only
    assert rule.check(other, ctx(roster)).status == "fail"
