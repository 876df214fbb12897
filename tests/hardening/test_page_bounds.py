"""Defect 10 of the hardening issue: what one page can cost is bounded. Evidence is capped
per result ("and N more"), a page with too much text is that page's error, and rules not
reached within the page's time are errors saying so."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import RulesConfig
from auditor.results import Status
from auditor.rules import catalog
from auditor.rules.catalog import PageTooLarge
from tests.rules.helpers import ctx, posts, snap


def test_evidence_is_capped_with_the_count_of_the_rest() -> None:
    texts = [f"Call me at 203-555-{n:04d}" for n in range(100, 160)]
    page = snap(posts=posts(*texts, author="s1"))  # a student's own number (staff's is not)
    result = next(
        r
        for r in catalog.evaluate(page, ctx(rules=RulesConfig(max_evidence=5)))
        if r.rule == "DS6.confidentiality"
    )
    assert result.status == Status.FAIL
    assert len(result.evidence) == 6
    assert result.evidence[-1].value == "and 55 more"


def test_too_much_text_is_the_pages_error(make_config: Callable[..., Path], tmp_path: Path) -> None:
    big = {"posts": [{"id": str(n), "text": "x" * 50_000} for n in range(30)]}  # 1.5 MB
    config = make_config({"big": big, "small": {}}, extra="")
    text = config.read_text().replace(
        "[[connectors]]", "[rules]\nmax_page_text_mb = 1.0\n\n[[connectors]]", 1
    )
    config.write_text(text)
    result = CliRunner().invoke(app, ["run", "--config", str(config), "-o", str(tmp_path / "o")])
    assert result.exit_code == 3, result.output
    pages = {
        p["id"]: p for p in json.loads((tmp_path / "o" / "findings.json").read_text())["pages"]
    }
    assert pages["big"]["status"] == "error"
    assert (
        "1.5 million characters" in pages["big"]["error"]
        and "max_page_text_mb" in pages["big"]["error"]
    )
    assert pages["small"]["status"] == "audited"


def test_rules_past_the_pages_time_are_errors_saying_so(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 1000, 30))  # every look at the clock is 30 s later
    monkeypatch.setattr(catalog.time, "monotonic", lambda: next(clock))
    results = catalog.evaluate(snap(), ctx(rules=RulesConfig(max_evaluation_s=60)))
    late = [r for r in results if r.status == Status.ERROR]
    assert late and len(late) < len(results)
    assert all("took longer than 60 s" in r.message for r in late)


def test_a_too_large_page_raises_before_any_rule_runs() -> None:
    page = snap(posts=posts("y" * 2_000_000))
    with pytest.raises(PageTooLarge, match=r"2\.0 million characters"):
        catalog.evaluate(page, ctx(rules=RulesConfig(max_page_text_mb=1)))
