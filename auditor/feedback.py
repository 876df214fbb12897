"""People's word on post findings, and the judged-post cache, between the store and the
rules.

- :func:`judge` records that a run's finding on a post is not a violation (dismissed) or is
  one (confirmed), from ``auditor dismiss`` / ``auditor confirm`` or an action-plan CSV,
  after checking that the run has that finding on that post.
- :class:`RunFeedback` gives the runner each page's dismissals and the verdicts on its
  posts judged in earlier runs, and stores the new ones.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from auditor.db import feedback as store
from auditor.db import judged
from auditor.errors import AuditorError, ConfigError
from auditor.plans import PlanDecision
from auditor.rules.dismissals import POST, Dismissal
from auditor.rules.evidence import mask_text
from auditor.rules.posts import shown_as_written
from auditor.snapshot import PageSnapshot
from auditor.text.digest import text_hash
from auditor.text.verdict import TextVerdict

log = logging.getLogger(__name__)
COMMAND_LINE = "command line"


@dataclass(frozen=True)
class Judgement:
    """One person's word on one finding of a run: the post(s) it covers (None: every post
    the finding names), and whether it is dismissed as not a violation."""

    run_id: int
    page_id: str
    rule_id: str
    post_id: str | None
    dismissed: bool
    reason: str
    by: str
    source: str = COMMAND_LINE


class NotFound(AuditorError):
    """The run, its result or the post a judgement names is not stored."""


def judge(engine: Engine, judgement: Judgement, at: datetime) -> int:
    """Store ``judgement``; how many posts it covered. NotFound (one line) when the run has
    no such finding or it names no such post."""
    return store.record(engine, _rows(engine, judgement, at))


def judge_plan(
    engine: Engine, file_name: str, decisions: Sequence[PlanDecision], by: str, at: datetime
) -> int:
    """Store the decisions of an action-plan CSV (every post of each row's finding); raise
    ConfigError with one ``file:line:column`` line per dismissed row whose finding is not
    stored or names no post. A planned row confirms its finding's posts where it has any."""
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for d in decisions:
        said = Judgement(d.run_id, d.page_id, d.rule_id, None, d.dismissed, d.reason, by, file_name)
        try:
            rows.extend(_rows(engine, said, at))
        except NotFound as exc:  # a plan confirms what it can; a dismissal must find its posts
            if d.dismissed:
                errors.append(f"{file_name}:{d.line}:{d.run_column}: column run_id: {exc}")
    if errors:
        raise ConfigError(errors)
    return store.record(engine, rows, keep_dismissals=True)


def _rows(engine: Engine, said: Judgement, at: datetime) -> list[dict[str, Any]]:
    """The feedback rows of ``said``, one per post of its finding that it covers."""
    where = f"run {said.run_id}"
    if not store.run_exists(engine, said.run_id):
        raise NotFound(f"no run {said.run_id} is stored")
    found = store.finding_evidence(engine, said.run_id, said.page_id, said.rule_id)
    if found is None:
        raise NotFound(f"{where} has no result of {said.rule_id} on page {said.page_id!r}")
    status, evidence = found
    posts = [e for e in evidence if e.get("kind") == POST and e.get("ref")]
    if said.post_id is not None:
        posts = [e for e in posts if e["ref"] == said.post_id]
        if not posts:
            raise NotFound(
                f"{where}'s result of {said.rule_id} on page {said.page_id!r} ({status}) "
                f"names no post {said.post_id!r}"
            )
    elif not posts:
        raise NotFound(
            f"{where}'s result of {said.rule_id} on page {said.page_id!r} ({status}) names no post"
        )
    unhashed = [e["ref"] for e in posts if not e.get("text_hash")]
    if unhashed:
        raise NotFound(
            f"{where} recorded post {unhashed[0]!r} without its text hash (an older version "
            "audited it); judge it from a newer run"
        )
    by_post: dict[str, list[dict[str, Any]]] = {}
    for item in posts:  # a post may carry several items (one per disclosure, say)
        by_post.setdefault(item["ref"], []).append(item)
    return [
        {
            "page_id": said.page_id,
            "rule_id": said.rule_id,
            "post_id": post_id,
            "decision": store.DISMISSED if said.dismissed else store.CONFIRMED,
            "text_hash": items[0]["text_hash"],
            "run_id": said.run_id,
            "reason": said.reason,
            "decided_by": said.by,
            "decided_at": at,
            "excerpt": "; ".join(str(e.get("value") or "") for e in items),
            "author_role": items[0].get("role"),
            "source": said.source,
        }
        for post_id, items in by_post.items()
    ]


class RunFeedback:
    """For one run: each page's dismissals (read once), and the judged-post cache: the
    verdicts judged in earlier runs on a page's posts (read per page in one query), and
    the new ones, written in batches of ``FLUSH_AT`` (the last by :meth:`flush` when the
    run's pages are done). Without a database (``engine`` None) it holds no verdicts. A
    cache the database fails to read or write is logged and passed by: the page is judged
    in full. Used from one thread."""

    FLUSH_AT = 2000  # verdicts: one statement a batch, not one transaction a page

    def __init__(self, engine: Engine | None, version: str, seen: datetime) -> None:
        self.engine = engine
        self.version = version
        self.seen = seen
        self._dismissals: dict[str, list[Dismissal]] = defaultdict(list)
        self._pending: dict[str, TextVerdict] = {}  # judged, not yet written
        if engine is None:
            return
        for row in store.all_feedback(engine, store.DISMISSED):
            self._dismissals[row.page_id].append(
                Dismissal(row.rule_id, row.post_id, row.text_hash, row.decided_by, row.decided_at)
            )
        pruned = judged.prune_versions(engine, self.version)
        if pruned:
            log.info("judged-post cache: %d verdict(s) of older rules versions removed", pruned)

    def dismissals(self, page_id: str) -> tuple[Dismissal, ...]:
        """The page's posts dismissed as not a violation of a rule."""
        return tuple(self._dismissals.get(page_id, ()))

    def known(self, page_id: str, snapshot: PageSnapshot) -> dict[str, TextVerdict] | None:
        """The verdicts on the page's posts judged before (in an earlier run, or earlier in
        this one), by text hash; None without a database."""
        if self.engine is None:
            return None
        hashes = [text_hash(post.text) for post in snapshot.posts or []]
        known = {h: self._pending[h] for h in hashes if h in self._pending}
        try:
            wanted = [h for h in hashes if h not in known]
            known |= judged.load_verdicts(self.engine, wanted, self.version, self.seen)
        except Exception as exc:
            log.warning("page %s: judged-post cache not read: %s", page_id, exc)
        return known

    def keep(self, verdicts: Mapping[str, TextVerdict]) -> None:
        """Queue newly judged ``verdicts`` (already found :meth:`storable`) for storing;
        a full batch is written now."""
        if self.engine is None:
            return
        self._pending |= verdicts
        if len(self._pending) >= self.FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        """Write the verdicts judged since the last batch."""
        if self.engine is None or not self._pending:
            return
        try:
            judged.save_verdicts(self.engine, self._pending, self.version, self.seen)
        except Exception as exc:
            log.warning("judged-post cache: %d verdict(s) not written: %s", len(self._pending), exc)
        self._pending = {}


def storable(verdict: TextVerdict, domains: Iterable[str]) -> bool:
    """Whether ``verdict`` may be kept in the database: it names no student information
    (no DS 6 disclosure, no sentence the evidence would show masked, and nothing the
    evidence masker would mask with the student email ``domains``)."""
    if verdict.disclosures:
        return False
    findings = [verdict.speech, *verdict.commercial]
    quoted = [getattr(f, "sentence", None) for f in findings if f is not None]
    if not all(shown_as_written(s) for s in quoted if s):
        return False  # a sentence evidence would mask: never stored as written
    domains = frozenset(domains)
    return all(mask_text(s, domains) == s for s in _strings(verdict.to_json()))


def _strings(data: object) -> Iterable[str]:
    """Every string inside JSON ``data``."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)
