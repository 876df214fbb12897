"""Dismissals end to end, on SQLite and PostgreSQL: audit a page (file connector), dismiss
a post's finding, re-run (not reported; the result says who dismissed it), edit the post
(reported again), export the corpus (the dismissal is a masked, labelled negative); and
the same from a supervisor's action-plan CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.errors import ExitCode
from tests.snapshots import passing_snapshot

SPEECH = "DS3.respectful-speech"
PRIVACY = "DS6.confidentiality"
PHONE = "203-555-0147"


def invoke(*args: str) -> tuple[int, str, str]:
    """Run an ``auditor`` command in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def post(post_id: str, text: str) -> dict[str, Any]:
    return {"id": post_id, "author_id": "m1", "text": text, "created_at": "2026-11-20T10:00:00Z"}


def page(first_post: str = "this practice was shit") -> dict[str, Any]:
    """The club page: two profane posts (p1, p2), one naming a phone number (p3), and one
    linking outside the district (p4)."""
    data = passing_snapshot("ext-club", "Page club")
    data["members"].append({"id": "m1", "name": "Sam", "role": "member"})
    data["posts"] = [
        post("p1", first_post),
        post("p2", "you are a fucking idiot"),
        post("p3", f"Call Mia's mom at {PHONE} tonight."),
        post("p4", "Our sponsor: https://example.com/deals"),  # DS7 names the link, not a post
    ]
    return data


def audit(config: Path, out: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """Run an audit; (its run id, the club page's results by rule)."""
    code, stdout, stderr = invoke("run", "--config", str(config), "--output", str(out))
    assert code == ExitCode.FAILURES, stdout + stderr
    [club] = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    return club["run_id"], {r["rule"]: r for r in club["results"]}  # every result, in full


def dismiss(config: Path, *args: str) -> tuple[int, str, str]:
    return invoke("dismiss", *args, "--config", str(config))


def test_dismiss_rerun_edit_export(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"club": page()}, db_url=db_url)
    run1, results = audit(config, tmp_path / "r1")
    assert [e["ref"] for e in results[SPEECH]["evidence"]] == ["p1", "p2"]
    assert all(len(e["text_hash"]) == 16 for e in results[SPEECH]["evidence"])

    code, out, err = dismiss(
        config, str(run1), "club", SPEECH, "p1", "--reason", "team slang", "--by", "ana"
    )
    assert code == 0, out + err
    run2, results = audit(config, tmp_path / "r2")
    speech = results[SPEECH]
    assert speech["status"] == "fail" and [e["ref"] for e in speech["evidence"]] == ["p2"]
    assert "1 was dismissed as not a violation by ana on" in speech["message"]

    code, out, err = dismiss(config, str(run2), "club", SPEECH, "p2", "--reason", "quoting a song")
    assert code == 0, out + err
    _, results = audit(config, tmp_path / "r3")
    speech = results[SPEECH]
    assert speech["status"] == "pass" and speech["evidence"] == []
    assert speech["message"].startswith("2 post(s) dismissed as not a violation by ana on 20")
    assert results[PRIVACY]["status"] == "fail"  # other rules' findings on p1-p3 stand

    make_config({"club": page("this practice was shit, again")}, db_url=db_url)
    _, results = audit(config, tmp_path / "r4")
    speech = results[SPEECH]
    assert speech["status"] == "fail" and [e["ref"] for e in speech["evidence"]] == ["p1"]
    assert "dismissed by ana on 20" in speech["evidence"][0]["note"]
    assert speech["evidence"][0]["note"].endswith("but the post was edited since")

    code, out, err = invoke("confirm", str(run1), "club", PRIVACY, "p3", "--config", str(config))
    assert code == 0, out + err
    export = tmp_path / "corpus.jsonl"
    code, out, err = invoke("corpus", "export", "--config", str(config), "--out", str(export))
    assert code == 0, out + err
    examples = [json.loads(line) for line in export.read_text().splitlines()]
    assert export.stat().st_mode & 0o777 == 0o600
    assert len(examples) == len({e["id"] for e in examples}) == 3
    negatives = [e for e in examples if e["labels"] == {"DS3": False}]
    assert len(negatives) == 2
    # the sentences the evidence quotes, masked as it shows them
    assert {e["text"] for e in negatives} == {"this practice was s•••", "you are a fu••••• idiot"}
    assert any("team slang" in e["note"] and "by ana" in e["note"] for e in negatives)
    [positive] = [e for e in examples if "DS6" in e["labels"]]
    assert positive["labels"] == {"DS6": ["phone"]}
    assert PHONE not in export.read_text() and "•" in positive["text"]
    assert set(examples[0]) == {"id", "author_role", "text", "links", "labels", "note"}

    code, out, err = invoke("dismissals", "--config", str(config))
    assert code == 0 and "team slang" in out and "post p3" not in out
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"club {SPEECH} post p1: dismissed by ana on ")
    code, out, err = invoke("dismissals", "--all", "--config", str(config))
    assert "post p3: confirmed by " in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("99", "club", SPEECH, "p1"), "error: no run 99 is stored"),
        (("1", "nosuch", SPEECH, "p1"), "run 1 has no result of DS3.respectful-speech on page"),
        (("1", "club", SPEECH, "p3"), "(fail) names no post 'p3'"),
        (("1", "club", "DS3.nosuch", "p1"), "error: no rule has id 'DS3.nosuch'"),
    ],
)
def test_what_was_not_found_is_one_line(
    make_config: Callable[..., Path], tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    config = make_config({"club": page()})
    audit(config, tmp_path / "r1")
    code, _, err = dismiss(config, *args, "--reason", "x")
    assert code == ExitCode.USAGE
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_undo_makes_the_post_reported_again(
    make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"club": page()})
    run1, _ = audit(config, tmp_path / "r1")
    assert dismiss(config, str(run1), "club", SPEECH, "p1", "--reason", "slang")[0] == 0
    assert dismiss(config, str(run1), "club", SPEECH, "p1", "--undo")[0] == 0
    _, results = audit(config, tmp_path / "r2")
    assert [e["ref"] for e in results[SPEECH]["evidence"]] == ["p1", "p2"]
    code, _, err = dismiss(config, str(run1), "club", SPEECH, "p1", "--undo")
    assert code == ExitCode.USAGE and "nothing was recorded" in err


def plan_rows(plan: Path) -> list[dict[str, str]]:
    with plan.open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_action_plan_csv_dismisses_a_finding(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"club": page()}, db_url=db_url)
    run1, _ = audit(config, tmp_path / "r1")
    rows = plan_rows(tmp_path / "r1" / "action-plans" / "boss@district.org.csv")
    assert {r["run_id"] for r in rows} == {str(run1)} and {r["dismiss"] for r in rows} == {""}
    speech = next(r for r in rows if r["rule"] == SPEECH)
    speech.update(dismiss="yes", reason="sports slang, nobody is targeted")
    privacy = next(r for r in rows if r["rule"] == PRIVACY)
    privacy.update(planned_fix_date="2026-12-20", fixed_by="Sam", reason="delete the post")
    filled = write_rows(tmp_path / "filled.csv", rows)

    code, out, err = invoke("plan", "import", str(filled), "--config", str(config), "--by", "bo")

    assert code == 0, out + err
    assert "Imported 1 plan(s)" in out  # the dismissed row plans nothing
    _, results = audit(config, tmp_path / "r2")
    assert results[SPEECH]["status"] == "pass"
    assert "2 post(s) dismissed as not a violation by bo on" in results[SPEECH]["message"]
    assert results[PRIVACY]["status"] == "fail"
    code, out, _ = invoke("corpus", "export", "--config", str(config))
    labels = sorted(json.dumps(json.loads(line)["labels"]) for line in out.splitlines())
    assert labels == ['{"DS3": false}', '{"DS3": false}', '{"DS6": ["phone"]}']


def test_action_plan_csv_bad_dismiss_cells_are_file_line_column_errors(
    make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"club": page()})
    audit(config, tmp_path / "r1")
    rows = plan_rows(tmp_path / "r1" / "action-plans" / "boss@district.org.csv")
    header = list(rows[0])
    speech = next(i for i, r in enumerate(rows) if r["rule"] == SPEECH)
    privacy = next(i for i, r in enumerate(rows) if r["rule"] == PRIVACY)
    rows[speech].update(dismiss="maybe", reason="x")
    rows[privacy].update(dismiss="yes", run_id="77", reason="not student data")
    filled = write_rows(tmp_path / "filled.csv", rows)

    code, out, err = invoke("plan", "import", str(filled), "--config", str(config))
    assert code == ExitCode.USAGE, out + err
    assert f"filled.csv:{speech + 2}:{header.index('dismiss') + 1}: column dismiss:" in err

    rows[speech].update(dismiss="", reason="")
    closed = next(i for i, r in enumerate(rows) if r["rule"] == "DS7.no-personal-links")
    rows[closed].update(dismiss="yes", reason="a link, not a post")
    write_rows(filled, rows)
    code, out, err = invoke("plan", "import", str(filled), "--config", str(config))
    assert code == ExitCode.USAGE, out + err
    column = header.index("run_id") + 1
    assert f"filled.csv:{privacy + 2}:{column}: column run_id: no run 77 is stored" in err
    assert f"filled.csv:{closed + 2}:{column}: column run_id: run 1's result of DS7" in err
    assert err.count("error:") == 2


def test_a_planned_row_confirms_its_posts_and_skips_findings_without_posts(
    make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"club": page()})
    run1, _ = audit(config, tmp_path / "r1")
    assert (
        dismiss(config, str(run1), "club", SPEECH, "p2", "--reason", "a song", "--by", "it")[0] == 0
    )
    rows = plan_rows(tmp_path / "r1" / "action-plans" / "boss@district.org.csv")
    for row in rows:  # DS7 names links, not posts: its plan is stored, nothing confirmed
        row.update(planned_fix_date="2026-12-20", fixed_by="Sam", reason="on it")
    filled = write_rows(tmp_path / "filled.csv", rows)
    code, out, err = invoke("plan", "import", str(filled), "--config", str(config))
    assert code == 0, out + err
    assert f"Imported {len(rows)} plan(s)" in out
    code, out, _ = invoke("dismissals", "--all", "--config", str(config))
    assert sorted(line.split(":")[0] for line in out.splitlines()) == [
        f"club {SPEECH} post p1",
        f"club {SPEECH} post p2",
        f"club {PRIVACY} post p3",
    ]
    assert f"club {SPEECH} post p2: dismissed by it" in out  # a plan does not undo IT's word


def test_a_finding_of_an_unchanged_run_can_be_dismissed(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"club": page()}, db_url=db_url)
    audit(config, tmp_path / "r1")
    run2, results = audit(config, tmp_path / "r2")  # nothing changed: results shared
    assert [e["ref"] for e in results[SPEECH]["evidence"]] == ["p1", "p2"]

    code, out, err = dismiss(config, str(run2), "club", SPEECH, "p1", "--reason", "slang")

    assert code == 0, out + err
    _, results = audit(config, tmp_path / "r3")
    assert [e["ref"] for e in results[SPEECH]["evidence"]] == ["p2"]
