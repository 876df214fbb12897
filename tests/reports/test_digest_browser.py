"""The supervisor digest in headless Chromium at phone width, light and dark: nothing
overflows 390 px, the overview table and evidence show, and the dark scheme applies.
Screenshots go to ``test-artifacts/digest-evidence-*.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sample_audit import SampleRun

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
SUPERVISOR = "dreyes@danbury.k12.ct.us"

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_digest_with_evidence_fits_a_phone_in_both_schemes(
    sample: SampleRun, browser: Any, scheme: str
) -> None:
    path = sample.out / "digests" / f"{SUPERVISOR}.html"
    context = browser.new_context(viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(path.as_uri())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"digest-evidence-phone-{scheme}.png"), full_page=True)

    assert errors == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"content is {width}px wide"
    rows = page.eval_on_selector_all(".overview tr", "rows => rows.map(r => r.innerText)")
    assert rows[0].split() == ["Page", "Status", "Open", "items"]
    assert len(rows) == 1 + sum(p.supervisor == SUPERVISOR for p in sample.view().pages)
    assert page.locator(".ev li").count() > 0
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in background[background.index("(") + 1 : -1].split(",")[:3]]
    assert (sum(channels) < 200) == (scheme == "dark"), background
    context.close()
