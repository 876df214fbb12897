"""A supervisor of many pages gets a digest that lists the open items of the most urgent
``PAGES_IN_FULL`` pages in full and names the rest with their count of open items, in the
HTML and the text part alike: nothing is left out without saying so."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sample_audit import SampleRun

from auditor.reports import digest
from auditor.reports.digest import build_digests

SUPERVISOR = "dreyes@danbury.k12.ct.us"


def test_pages_beyond_the_cap_are_named_and_counted(
    sample: SampleRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = sample.view()
    full = next(d for d in build_digests(view, sample.config) if d.recipient == SUPERVISOR)
    monkeypatch.setattr(digest, "PAGES_IN_FULL", 1)
    cut = next(d for d in build_digests(view, sample.config) if d.recipient == SUPERVISOR)
    audited = [
        p
        for p in view.pages
        if p.supervisor == SUPERVISOR and p.needs_attention
        if p.status == "audited"
    ]
    assert len(audited) >= 2  # the sample supervisor has pages to leave out
    shown = [p for p in audited if f"== {p.name} ==" in cut.text]
    left = [p for p in audited if p not in shown]
    assert len(shown) == 1 and all(f"== {p.name} ==" in full.text for p in audited)
    html = unescape(re.sub(r"<[^>]+>", "", cut.html.split("</head>", 1)[1]))
    items = sum(len(p.attention) for p in left)
    pages = f"{len(left)} more page{'s' if len(left) > 1 else ''}"
    for text in (cut.text, " ".join(html.split())):
        assert f"{pages} with {items} open item" in text
        assert all(p.name in text for p in left)
        assert "attached action plan" in text
    assert "not listed here" not in full.text
    assert len(cut.html) < len(full.html)
