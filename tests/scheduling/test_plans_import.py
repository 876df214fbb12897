"""``auditor plan import FILE``: a supervisor's filled-in action plan is read back and
stored (a re-import replaces it), and the next digest (sent through a real loopback SMTP
server), its attached plan and the run report show it; bad cells are one-line
``file:line:column`` errors and store nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from auditor.db.engine import alembic_config, make_engine, upgrade
from auditor.db.models import ActionPlan
from auditor.errors import ExitCode

from .conftest import District, Mailbox, email_section, invoke

OPEN = {"visibility": "public", "join_policy": "open", "post_moderation": "none"}


def audited_with_plan(district: District, tmp_path: Path) -> Path:
    """Audit with robotics open to all, and return Ada's action plan from the report."""
    district.set_page("robotics", settings=OPEN | {"invite_links": []})
    assert invoke("run", "--config", str(district.config))[0] == ExitCode.FAILURES
    report = tmp_path / "report"
    assert invoke("report", "--config", str(district.config), "-o", str(report))[0] == 0
    return report / "action-plans" / "ada@district.org.csv"


def fill(plan: Path, values: dict[str, dict[str, str]]) -> Path:
    """Fill in the plan columns of the rows of ``values``' rules; return the new file."""
    with plan.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.update(values.get(row["rule"], {}))
    filled = plan.with_name("filled.csv")
    with filled.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return filled


def stored(district: District) -> list[tuple[str, str, str | None]]:
    with Session(make_engine(district.db_url)) as session:
        rows = session.execute(
            select(ActionPlan.page_id, ActionPlan.rule_id, ActionPlan.responsible)
        )
        return sorted((p, r, who) for p, r, who in rows)


def test_imported_plans_show_in_the_next_digest_and_report(
    db_url: str, smtp: Mailbox, make_district: Callable[..., District], tmp_path: Path
) -> None:
    district = make_district(email_section(smtp.port), db_url=db_url)
    plan = audited_with_plan(district, tmp_path)
    plan_cols = {"planned_fix_date": "2026-12-20", "fixed_by": "Rob Owner", "reason": "club vote"}
    filled = fill(plan, {"DS2.closed": plan_cols})

    code, out, err = invoke("plan", "import", str(filled), "--config", str(district.config))

    assert code == ExitCode.OK, out + err
    assert "Imported 1 plan(s)" in out
    assert stored(district) == [("robotics", "DS2.closed", "Rob Owner")]
    assert invoke("digest", "--config", str(district.config), "--send")[0] == ExitCode.OK
    [ada] = smtp.to("ada@district.org")
    text = ada.get_body(("plain",)).get_content()
    html = ada.get_body(("html",)).get_content()
    planned = "Planned: to be fixed by 2026-12-20, by Rob Owner — club vote."
    assert planned in text and "Rob Owner" in html and "club vote" in html
    assert text.count("Planned:") == 1
    [attachment] = list(ada.iter_attachments())
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    closed = next(r for r in rows if r["rule"] == "DS2.closed")
    assert (closed["planned_fix_date"], closed["fixed_by"], closed["reason"]) == (
        "2026-12-20",
        "Rob Owner",
        "club vote",
    )
    report = tmp_path / "again"
    assert invoke("report", "--config", str(district.config), "-o", str(report))[0] == 0
    page_html = "".join(p.read_text() for p in report.rglob("*.html") if "digests" not in p.parts)
    assert "<strong>Planned:</strong> to be fixed by 2026-12-20, by <bdi>Rob Owner</bdi>" in (
        page_html
    )

    again = fill(plan, {"DS2.closed": plan_cols | {"fixed_by": "Ada Lovelace"}})
    assert invoke("plan", "import", str(again), "--config", str(district.config))[0] == 0
    assert stored(district) == [("robotics", "DS2.closed", "Ada Lovelace")]


def test_bad_cells_are_one_line_errors_and_nothing_is_stored(
    make_district: Callable[..., District], tmp_path: Path
) -> None:
    district = make_district()
    plan = audited_with_plan(district, tmp_path)
    with plan.open(newline="") as handle:
        header = next(csv.reader(handle))
    col = {name: header.index(name) + 1 for name in header}
    filled = fill(
        plan,
        {
            "DS2.closed": {"planned_fix_date": "next week", "fixed_by": "Rob"},
            "DS2.moderated": {"page_id": "nosuch", "reason": "x"},
            "DS2.invite-only": {"rule": "DS9.nosuch", "fixed_by": "Rob"},
        },
    )

    code, out, err = invoke("plan", "import", str(filled), "--config", str(district.config))

    assert code == ExitCode.USAGE, out + err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 3, err
    assert any(
        "filled.csv:" in line
        and f":{col['planned_fix_date']}: column planned_fix_date: 'next week' is not a date"
        in line
        for line in lines
    ), lines
    assert any(
        f":{col['page_id']}: column page_id: no registered page has id 'nosuch'" in line
        for line in lines
    )
    assert any(
        f":{col['rule']}: column rule: no rule has id 'DS9.nosuch'" in line for line in lines
    )
    assert stored(district) == []


def test_missing_columns_and_repeated_rows_are_named(
    make_district: Callable[..., District], tmp_path: Path
) -> None:
    district = make_district()
    no_date = tmp_path / "short.csv"
    no_date.write_text("page_id,rule,fixed_by,reason\nrobotics,DS2.closed,Rob,\n")
    code, _, err = invoke("plan", "import", str(no_date), "--config", str(district.config))
    assert code == ExitCode.USAGE
    assert "short.csv:1:1: missing column 'planned_fix_date'" in err

    twice = tmp_path / "twice.csv"
    twice.write_text(
        "page_id,rule,planned_fix_date,fixed_by,reason\n"
        "robotics,DS2.closed,2026-12-20,Rob,\n"
        "robotics,DS2.closed,2026-12-21,Ada,\n"
    )
    code, _, err = invoke("plan", "import", str(twice), "--config", str(district.config))
    assert code == ExitCode.USAGE
    assert "twice.csv:3:2: column rule: this page and rule were already planned on line 2" in err
    assert not (tmp_path / "auditor.db").exists()  # a bad file never reaches the database


def test_migration_0005_adds_and_removes_the_plans_table(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    assert "action_plans" in inspect(engine).get_table_names()
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    assert "action_plans" not in inspect(engine).get_table_names()
    assert upgrade(engine)[0] == "0004"  # and up to the head again, whatever it is now
    assert "action_plans" in inspect(engine).get_table_names()
    engine.dispose()
