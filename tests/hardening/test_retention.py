"""Defect 16 of the hardening issue (retention): runs older than ``[retention]
keep_runs_days`` lose their evidence, messages and links (which may name students) but
keep each result's rule, status and severity, so trends still count them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from auditor.cli import app
from auditor.db.engine import make_engine
from auditor.db.models import PageAudit, Result, Run, results_holder
from auditor.db.store import PURGED

LEAKY = {
    "members": [
        {"id": "o", "email": "owner@district.org", "role": "owner"},
        {"id": "x", "email": "stranger@gmail.com", "name": "Stranger Danger", "role": "moderator"},
    ]
}
# Each audit's results, read through the audit holding them (an unchanged audit shares
# its predecessor's rows until a purge gives it its own copy).
HOLDER = Result.page_audit_id == results_holder(PageAudit)
RESOLVED = select(PageAudit.run_id, Result.rule_id, Result.status).join(PageAudit, HOLDER)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_old_runs_keep_counts_and_lose_evidence(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"a": LEAKY}, db_url=db_url, extra="\n[retention]\nkeep_runs_days = 30\n")
    for n in (1, 2):
        assert (
            invoke("run", "--config", str(config), "--output", str(tmp_path / f"o{n}")).exit_code
            == 1
        )
    engine = make_engine(db_url)
    with Session(engine) as session:
        old = datetime.now(UTC) - timedelta(days=45)
        session.execute(update(Run).where(Run.id == 1).values(started_at=old))
        session.commit()
        before = sorted(session.execute(RESOLVED).all())

    dry = invoke("purge", "--config", str(config), "--dry-run")
    assert dry.exit_code == 0 and "would remove the evidence of 1 run(s)" in dry.output
    done = invoke("purge", "--config", str(config))
    assert done.exit_code == 0 and "removed the evidence of 1 run(s)" in done.output

    with Session(engine) as session:
        assert sorted(session.execute(RESOLVED).all()) == before
        old_results = session.scalars(
            select(Result).join(PageAudit, HOLDER).where(PageAudit.run_id == 1)
        ).all()
        new_results = session.scalars(
            select(Result).join(PageAudit, HOLDER).where(PageAudit.run_id == 2)
        ).all()
        assert all(r.evidence == [] and r.message == PURGED for r in old_results)
        assert any("Stranger" in json.dumps(r.evidence) for r in new_results)
        assert session.get(Run, 1).purged_at is not None and session.get(Run, 2).purged_at is None
    again = invoke("purge", "--config", str(config))
    assert "removed the evidence of 0 run(s)" in again.output
    report = invoke(
        "report", "--config", str(config), "--run", "1", "--output", str(tmp_path / "r")
    )
    assert report.exit_code == 0, report.output
    assert "Stranger" not in (tmp_path / "r" / "index.html").read_text()
