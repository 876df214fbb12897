"""The judged-post cache: verdicts round-trip through JSON whatever fields the findings
have; a page judged from known verdicts gives the same results as one judged afresh; a
second run over the same posts reads no detector for them (SQLite and PostgreSQL); no
verdict holding student data is stored; a change of rules configuration is a new version
and old versions are pruned."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import RulesConfig
from auditor.db import judged
from auditor.db.engine import make_engine, upgrade
from auditor.db.models import JudgedPost
from auditor.errors import ConfigError
from auditor.evaluation import PageEvaluator
from auditor.feedback import RunFeedback, storable
from auditor.loading import load_config
from auditor.people import People
from auditor.rules import catalog
from auditor.text import verdict as verdict_module
from auditor.text.commercial import CommercialDetector
from auditor.text.confidential import ConfidentialityDetector
from auditor.text.digest import text_hash
from auditor.text.links import LinkFinder
from auditor.text.matcher import TextMatcher, verdicts_version
from auditor.text.speech import SpeechDetector
from auditor.text.verdict import TextVerdict
from tests.rules.helpers import DISTRICT, ctx, posts, snap
from tests.snapshots import passing_snapshot

CORPUS = Path(__file__).parents[1] / "corpus" / "posts.jsonl"
PHONE = "203-555-0147"
TEXTS = [
    "this practice was shit",
    "Buy my cookies, two dollars a box, Venmo @sam-bakes",
    f"Call Mia's mom at {PHONE} tonight.",
    "Forms: https://forms.gle/abc and email kid@students.district.org",
    "Practice moved to 4pm.",
]


def corpus_texts() -> list[str]:
    return [json.loads(line)["text"] for line in CORPUS.read_text().splitlines()]


def test_verdicts_round_trip_through_json() -> None:
    view = TextMatcher(RulesConfig(), DISTRICT).page(corpus_texts())
    assert len(view.computed) > 400
    kinds = set()
    for digest, verdict in view.computed.items():
        again = TextVerdict.from_json(json.loads(json.dumps(verdict.to_json())))
        assert again == verdict, digest
        kinds |= {name for name, value in vars(verdict).items() if value}
    assert kinds == {"speech", "disclosures", "commercial", "urls"}  # every answer exercised


def test_findings_are_rebuilt_over_their_fields_whatever_they_are() -> None:
    @dataclass(frozen=True)
    class Richer:  # a finding as the classifier may make it, with fields added
        kind: str
        score: float
        spans: tuple[int, ...]

    data = json.loads(json.dumps({"kind": "threat", "score": 0.93, "spans": (3, 9)}))
    assert verdict_module._finding(Richer, data) == Richer("threat", 0.93, (3, 9))


def test_a_page_judged_from_known_verdicts_gives_the_same_results() -> None:
    page = snap(posts=posts(*corpus_texts()[:200]))
    context = replace(ctx(), text=TextMatcher(RulesConfig(), DISTRICT))
    fresh, computed, _ = catalog.evaluate_page(page, context)
    stored = {
        h: TextVerdict.from_json(json.loads(json.dumps(v.to_json()))) for h, v in computed.items()
    }
    cached, again, _ = catalog.evaluate_page(page, replace(context, known=stored))
    assert again == {} and [r.model_dump() for r in cached] == [r.model_dump() for r in fresh]
    assert any(r.status == "fail" for r in fresh)


def test_the_version_changes_with_what_changes_a_verdict() -> None:
    base = TextMatcher(RulesConfig(), DISTRICT)
    assert base.version == TextMatcher(RulesConfig(), DISTRICT).version
    terms = TextMatcher(RulesConfig(speech_terms=["dang"]), DISTRICT)
    domains = TextMatcher(RulesConfig(), DISTRICT.model_copy(update={"web_domains": ["x.org"]}))
    assert len({base.version, terms.version, domains.version}) == 3


def test_the_version_is_made_without_a_text_matcher(
    monkeypatch: pytest.MonkeyPatch, make_config: Callable[..., Path]
) -> None:
    """An unchanged run needs only the version (the judged-post cache's key and part of
    each page's inputs): it is the matcher's, and made without making one."""
    config = load_config(make_config({"p1": {}}))
    evaluators = [
        PageEvaluator(config.model_copy(update={"rules": rules}), People(config.district))
        for rules in (RulesConfig(), RulesConfig(speech_terms=["dang"]))
    ]
    expected = [TextMatcher(e.config.rules, e.config.district).version for e in evaluators]

    def refused(*args: object) -> None:
        raise AssertionError("a text matcher was made")

    monkeypatch.setattr(TextMatcher, "__init__", refused)
    assert [e.version() for e in evaluators] == expected
    assert expected[0] != expected[1]
    assert [verdicts_version(e.config.rules, e.config.district) for e in evaluators] == expected


def test_a_classifier_folder_gone_since_the_config_was_read_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.json").write_text("{}")
    rules = RulesConfig.model_validate({"classifier": {"path": str(folder)}})
    (folder / "model.json").unlink()
    folder.rmdir()
    with pytest.raises(ConfigError, match=r"\[rules.classifier\] path: .*model: no such model"):
        verdicts_version(rules, DISTRICT)


def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each text any content detector reads."""
    read: list[str] = []
    for cls, name in [
        (SpeechDetector, "check"),
        (ConfidentialityDetector, "find"),
        (CommercialDetector, "find"),
        (LinkFinder, "find"),
    ]:
        original = getattr(cls, name)

        def wrapped(self: Any, text: Any, scan: Any, _original: Any = original) -> Any:
            read.append(text)
            return _original(self, text, scan)

        monkeypatch.setattr(cls, name, wrapped)
    return read


def run(config: Path, out: Path, *options: str) -> list[dict[str, Any]]:
    """Audit; the page's results as rule, status, severity, message and evidence."""
    command = ["run", "--config", str(config), "--output", str(out), *options]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1, result.output
    [page] = json.loads((out / "findings.json").read_text())["pages"]
    keys = ("rule", "status", "severity", "message", "evidence")
    return [{k: r[k] for k in keys} for r in page["results"]]


def stored_rows(db_url: str) -> list[JudgedPost]:
    with Session(make_engine(db_url)) as session:
        return list(session.scalars(select(JudgedPost)))


def test_a_second_run_judges_no_stored_post_again(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = passing_snapshot("ext-club", "Page club")
    data["posts"] = [{"id": f"p{i}", "author_id": "o", "text": t} for i, t in enumerate(TEXTS)]
    config = make_config({"club": data}, db_url=db_url)
    read = spy(monkeypatch)

    first = run(config, tmp_path / "r1")
    assert set(TEXTS) <= set(read)
    rows = stored_rows(db_url)
    # Texts holding student data (a phone number, a student's email) are never stored.
    assert {r.text_hash for r in rows} == {text_hash(t) for t in (TEXTS[0], TEXTS[1], TEXTS[4])}
    assert PHONE not in json.dumps([r.verdict for r in rows])
    assert "students.district.org" not in json.dumps([r.verdict for r in rows])

    read.clear()
    second = run(config, tmp_path / "r2", "--full")  # evaluated again, not re-used whole
    assert second == first
    assert not {TEXTS[0], TEXTS[1], TEXTS[4]} & set(read)  # from the cache, unread
    assert {TEXTS[2], TEXTS[3]} <= set(read)  # judged again: not stored

    changed = config.read_text().replace(
        "[database]", '[rules]\nspeech_terms = ["cookies"]\n\n[database]'
    )
    config.write_text(changed)
    read.clear()
    third = run(config, tmp_path / "r3")
    assert set(TEXTS) <= set(read)  # a new rules version: everything judged again
    speech = next(r for r in third if r["rule"] == "DS3.respectful-speech")
    assert {e["ref"] for e in speech["evidence"]} == {"p0", "p1"}
    versions = {r.version for r in stored_rows(db_url)}
    assert len(versions) == 1 and versions != {r.version for r in rows}  # old one pruned


def test_rows_seen_again_are_kept_and_unseen_ones_purged(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime(2026, 12, 3, tzinfo=UTC)
    view = TextMatcher(RulesConfig(), DISTRICT).page([TEXTS[0], TEXTS[4]])
    [seen, unseen] = view.computed
    judged.save_verdicts(engine, view.computed, "v1", now - timedelta(days=500))
    judged.save_verdicts(engine, view.computed, "v1", now)  # already stored: kept as it was
    assert judged.load_verdicts(engine, [seen], "v1", now) == {seen: view.computed[seen]}
    assert judged.load_verdicts(engine, [seen], "v2", now) == {}
    assert judged.purge_unseen(engine, now - timedelta(days=400)) == 1  # read: now seen
    assert {r.text_hash for r in stored_rows(db_url)} == {seen} and unseen != seen
    assert judged.prune_versions(engine, "v2") == 1 and stored_rows(db_url) == []


@pytest.mark.parametrize("batch", [1, 2000])  # written after each page / at the run's end
def test_a_text_is_judged_once_a_run_however_many_pages_hold_it(
    batch: int, make_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RunFeedback, "FLUSH_AT", batch)
    data = passing_snapshot("ext-a", "Page a")
    data["posts"] = [{"id": f"p{i}", "author_id": "o", "text": t} for i, t in enumerate(TEXTS)]
    config = make_config({"a": data, "b": data | {"external_id": "ext-b"}})
    read = spy(monkeypatch)
    result = CliRunner().invoke(app, ["run", "-c", str(config), "--output", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert read.count(TEXTS[0]) == 4  # four detectors, one page
    assert read.count(TEXTS[2]) == 8  # not stored: judged on both pages
    assert len(stored_rows(f"sqlite:///{tmp_path / 'auditor.db'}")) == 3


def test_a_classifier_sentence_evidence_would_mask_is_never_stored() -> None:
    from auditor.text.speech import SpeechFinding

    said = "Jake lives at 12 Elm Street, write him at jake.miller@gmail.com, you stupid loser"
    quoting = TextVerdict(
        speech=SpeechFinding("disrespectful", "", "classifier", 0.97, said),
        disclosures=(),
        commercial=(),
        urls=(),
    )
    plain = replace(quoting, speech=replace(quoting.speech, sentence="you are a stupid loser"))

    assert not storable(quoting, [])  # its number and email would be shown masked
    assert storable(plain, [])
