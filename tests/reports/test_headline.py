"""The digest subject's headline counts read as English for every number of pages."""

from __future__ import annotations

from auditor.reports.digest import headline
from auditor.reports.view import PageView


def page(status: str) -> PageView:
    return PageView(
        id=status, name="P", school="S", platform="file", owner="o@d.org",
        supervisor="s@d.org", status=status, error="boom" if status == "error" else None,
        url=None, source=None,
    )  # fmt: skip


def test_headline_counts_pages_needing_attention() -> None:
    assert headline([page("error"), page("audited"), page("audited")]) == (
        "1 of 3 pages needs attention"
    )
    assert headline([page("error"), page("error")]) == "2 of 2 pages need attention"


def test_headline_when_everything_passes() -> None:
    assert headline([page("audited"), page("audited")]) == "All 2 pages meet the checked rules"
    assert headline([page("audited")]) == "Your page meets the checked rules"
