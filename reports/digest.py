"""Supervisor digests: one email per supervisor covering only the pages they oversee, as
email-safe HTML (table layout, CSS inlined by css-inline, no scripts, no remote content)
and a plain-text alternative carrying the same facts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import css_inline

from auditor.config import Config
from auditor.reports.deadlines import apply_deadlines, set_deadlines
from auditor.reports.environment import day, join_url, plural, render_email, strip_bidi
from auditor.reports.evidence import evidence_lines
from auditor.reports.outline import (
    LOAD_PAGES,
    PageLine,
    RunOutline,
    outline_of,
    passing_line,
    severity_rank,
)
from auditor.reports.view import PageView, ResultView, RunView
from auditor.results import Status

# A digest lists in full the open items of at most this many pages (the most urgent); the
# rest are named, and are in the attached action plan and the report. An email of hundreds
# of pages would be clipped by mail readers, and its rendering would hold tens of MB.
PAGES_IN_FULL = 25
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
T = TypeVar("T")


@dataclass
class Digest:
    """One supervisor's digest, ready for the email sender."""

    recipient: str
    subject: str
    html: str
    text: str
    page_ids: list[str]


def build_digests(view: RunView, config: Config) -> list[Digest]:
    """One digest per supervisor in the run, in recipient order."""
    return list(iter_digests(view, config))


def iter_digests(
    view: RunView | RunOutline, config: Config, done: Collection[str] = ()
) -> Iterator[Digest]:
    """The digests of :func:`build_digests`, one at a time (a large district's report
    writes each before building the next, rather than holding them all), but those of the
    supervisors ``done``. ``view``: a run read in full, or an outline whose pages were all
    summed up (its report's): only the pages listed in full are read again, for several
    digests at a time."""
    run = view if isinstance(view, RunOutline) else _summed(view, config)
    waiting: list[tuple[str, list[PageLine], list[PageLine]]] = []
    for supervisor, lines in sorted(by_supervisor(run.lines).items()):
        if supervisor in done:
            continue
        waiting.append((supervisor, lines, in_full(lines)))
        if sum(len(full) for _, _, full in waiting) >= LOAD_PAGES:
            yield from _digests_of(run, config, waiting)
            waiting = []
    yield from _digests_of(run, config, waiting)


def by_supervisor(lines: Iterable[PageLine]) -> dict[str, list[PageLine]]:
    """The pages of each supervisor, in page order."""
    out: dict[str, list[PageLine]] = defaultdict(list)
    for line in lines:
        out[line.supervisor].append(line)
    return out


class DigestsAsRead:
    """The digests a report can build as it reads its pages: a supervisor's, once all of
    their pages were summed up, when the pages it lists in full are in the batch just read
    (a supervisor of one school: their pages are read together), so those pages are not
    read again; the others are left to :func:`iter_digests` (``done`` names those built)."""

    def __init__(self, run: RunOutline, config: Config) -> None:
        self.run = run
        self.config = config
        self.pages_of = by_supervisor(run.lines)
        self.left = {supervisor: len(lines) for supervisor, lines in self.pages_of.items()}
        self.done: set[str] = set()

    def after(self, lines: list[PageLine], pages: list[PageView]) -> Iterator[Digest]:
        """The digests that ``pages`` (just read and summed up, with ``lines``) complete."""
        here = {p.id: p for p in pages}
        finished = set()
        for line in lines:
            self.left[line.supervisor] -= 1
            if not self.left[line.supervisor]:
                finished.add(line.supervisor)
        for supervisor in sorted(finished):
            theirs = self.pages_of[supervisor]
            full = in_full(theirs)
            if all(line.id in here for line in full):
                shown = [here[line.id] for line in full]
                with self.run.view.evidence_of(shown):
                    yield build_digest(self.run.view, self.config, supervisor, theirs, shown)
                self.done.add(supervisor)


def _summed(view: RunView, config: Config) -> RunOutline:
    """A run read in full as an outline, its pages summed up with their deadlines."""
    apply_deadlines(view, config.remediation, config.district.timezone)
    run = outline_of(view)
    run.totals.add(view.pages, run.lines)
    return run


def _digests_of(
    run: RunOutline, config: Config, waiting: list[tuple[str, list[PageLine], list[PageLine]]]
) -> Iterator[Digest]:
    """The digests of ``waiting`` (supervisor, their pages, those listed in full), the
    pages listed in full read at once."""
    wanted = [line for _, _, full in waiting for line in full]
    pages = {p.id: p for p in run.load(wanted, changes=False)} if wanted else {}
    tz = config.district.timezone
    set_deadlines(pages.values(), run.view.started_at, config.remediation, tz)
    for supervisor, lines, full in waiting:
        shown = [pages[line.id] for line in full]
        # The evidence of the pages listed in full (held until the caller asks for the
        # next digest): the others' is in the action plan and the report.
        with run.view.evidence_of(shown):
            yield build_digest(run.view, config, supervisor, lines, shown)


def build_digest(
    view: RunView, config: Config, recipient: str, pages: list[PageLine], shown: list[PageView]
) -> Digest:
    """The digest of ``pages`` (all supervised by ``recipient``), ``shown``: the pages of
    :func:`in_full` in full."""
    context = digest_context(view, config, recipient, pages, shown)
    text, html = render_email("digest", context)
    return Digest(
        recipient=recipient,
        subject=context["subject"],
        html=_INLINER.inline(html),
        text=text,
        page_ids=[p.id for p in pages],
    )


def headline(pages: Sequence[PageLine | PageView]) -> str:
    """``"3 of 7 pages need attention"`` (or that all pass): the subject's counts."""
    total = len(pages)
    attention = sum(p.needs_attention for p in pages)
    if attention == 0:
        if total == 1:
            return "Your page meets the checked rules"
        return f"All {plural(total, 'page')} meet the checked rules"
    verb = "needs" if attention == 1 else "need"
    return f"{attention} of {plural(total, 'page')} {verb} attention"


def subject_line(view: RunView, config: Config, pages: list[PageLine]) -> str:
    """The email subject: counts first, then date and district (one line, no controls)."""
    district = " ".join(strip_bidi(view.district).split())
    when = day(view.started_at, config.district.timezone)
    return f"{headline(pages)} — page audit {when}, {district}"


def since_text(view: RunView, tz: str) -> Any:
    """A function telling, for one open result, since when it has been open."""

    def since(r: ResultView) -> str:
        if r.first_seen is None:
            return ""
        if r.first_seen_run == view.id:
            return (
                "New since the last audit." if view.previous_run else "First found in this audit."
            )
        verb = "Failing" if r.status == "fail" else "Open"
        return f"{verb} since {day(r.first_seen, tz)} ({plural(r.days_open or 0, 'day')})."

    return since


# The page's state in the digest's overview table, by its worst result.
PAGE_STATES = {
    Status.ERROR.value: "Could not be audited",
    Status.FAIL.value: "Failing",
    Status.WARN.value: "Needs a look",
    Status.PASS.value: "Meets the checked rules",
}


def due_text(result: ResultView) -> str:
    """``"Fix by 2026-12-05."`` or, past it, ``"Overdue: it was due by 2026-12-05."``."""
    if result.due is None:
        return ""
    if result.overdue:
        return f"Overdue: it was due by {result.due.isoformat()}."
    return f"Fix by {result.due.isoformat()}."


def plan_text(result: ResultView) -> str:
    """The supervisor's imported plan in one sentence, or "" when there is none."""
    parts = []
    if result.plan_fix_on:
        parts.append(f"to be fixed by {result.plan_fix_on.isoformat()}")
    if result.plan_by:
        parts.append(f"by {result.plan_by}")
    if not parts and not result.plan_note:
        return ""
    text = "Planned: " + (", ".join(parts) if parts else "no date set")
    return text + (f" — {result.plan_note}" if result.plan_note else "") + "."


def _passing(page: PageLine | PageView) -> str:
    """The page's passing rules on one line (see :func:`passing_line`)."""
    return page.passing if isinstance(page, PageLine) else passing_line(page)


def _urgency(page: PageLine) -> tuple[int, int, int, int, str]:
    """Sort key: most urgent status, then most overdue items, highest severity, most open
    results."""
    return (page.worst_rank, -page.overdue, -severity_rank(page), -page.open, page.name.lower())


def _once(make: Callable[[ResultView], T]) -> Callable[[ResultView], T]:
    """``make`` worked out once per result for one digest (its HTML and text both ask)."""
    done: dict[int, T] = {}

    def get(r: ResultView) -> T:
        key = id(r)  # the results outlive the digest's context
        if key not in done:
            done[key] = make(r)
        return done[key]

    return get


def _more(pages: list[PageLine]) -> dict[str, Any] | None:
    """The pages with open items left out of the digest: how many, their open items, and
    their names (None when none was left out)."""
    if not pages:
        return None
    names = "; ".join(strip_bidi(p.name) for p in pages)
    return {"pages": len(pages), "open": sum(p.open for p in pages), "names": names}


def in_full(pages: list[PageLine]) -> list[PageLine]:
    """The audited pages a digest lists in full (with their open items' evidence): those
    needing attention, most urgent first, at most ``PAGES_IN_FULL``."""
    audited = (p for p in pages if p.needs_attention and p.status == "audited")
    return sorted(audited, key=_urgency)[:PAGES_IN_FULL]


def digest_context(
    view: RunView, config: Config, recipient: str, pages: list[PageLine], shown: list[PageView]
) -> dict[str, Any]:
    """Everything both digest templates show, so HTML and text carry the same facts:
    ``pages`` in brief, and ``shown``, those of :func:`in_full` in full."""
    base = config.reports.base_url
    attention = sorted((p for p in pages if p.needs_attention), key=_urgency)
    audited = [p for p in attention if p.status == "audited"]  # in_full(pages) first
    if [p.id for p in shown] != [p.id for p in audited[:PAGES_IN_FULL]]:
        raise ValueError(f"the digest of {recipient} is given other pages in full")
    return {
        "run": view,
        "tz": config.district.timezone,
        "since": since_text(view, config.district.timezone),
        "recipient": recipient,
        "subject": subject_line(view, config, pages),
        "headline": headline(pages),
        "pages": pages,
        "audited": shown,
        "more": _more(audited[PAGES_IN_FULL:]),
        "errored": [p for p in attention if p.status == "error"],
        "passing": [p for p in pages if not p.needs_attention],
        "report_url": join_url(base, "index.html"),
        "links": {p.id: join_url(base, p.href) for p in pages},
        "failing_results": sum(p.failing for p in pages),
        "overview": [
            {"page": p, "state": PAGE_STATES[p.worst], "open": p.open, "overdue": p.overdue}
            for p in sorted(pages, key=_urgency)
        ],
        "overdue": sum(p.overdue for p in pages),
        "evidence": _once(lambda r: evidence_lines(r.evidence, config.district.timezone)),
        "due": due_text,
        "plan": plan_text,
        "steps": _once(lambda r: config.rules.fill_in(r.remediation)),
        "passing_line": _passing,
    }
