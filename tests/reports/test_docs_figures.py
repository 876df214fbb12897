"""The figures the README and the operations guide quote about the sample district come
from auditing it: pages, platforms, schools, failing and broken pages, digests sent."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sample_audit import SampleRun

from auditor.email.digests import preview
from auditor.loading import load_config
from auditor.sample import SAMPLE_CONFIG

ROOT = Path(__file__).resolve().parents[2]
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


def number(text: str) -> int:
    return WORDS[text] if text in WORDS else int(text.replace(",", ""))


def test_readme_describes_the_sample_district_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"\((\d+) pages on (\w+) platforms in (\w+) schools\)", readme)
    assert found is not None
    config = load_config(SAMPLE_CONFIG)
    pages, platforms, schools = (number(g) for g in found.groups())
    assert pages == len(config.pages)
    assert schools == len({page.school for page in config.pages})
    assert platforms == _platforms_in_exports()


def _platforms_in_exports() -> int:
    """The platforms of the sample's snapshot files (each names its own)."""
    folder = Path(SAMPLE_CONFIG).parent / "pages"
    names = set()
    for path in folder.glob("*.json"):
        try:
            names.add(json.loads(path.read_text())["platform"])
        except (ValueError, KeyError):
            continue  # the page broken on purpose
    return len(names)


def test_operations_guide_quotes_the_sample_audit_and_its_emails(sample: SampleRun) -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    view = sample.view()
    line = re.search(
        r"run 1 incomplete: (\d+)\s+page\(s\), (\d+) with failures, (\d+) not audited", guide
    )
    assert line is not None
    total, failing, errored = (int(g) for g in line.groups())
    assert total == len(view.pages)
    assert failing == len(view.failing_pages)
    assert errored == len(view.errored_now)

    mails = preview(view, load_config(ROOT / "config.example.toml"))
    digests = [m for m in mails if m.kind == "digest"]
    sent = re.search(r"digests for run 1: (\d+)\s+sent", guide)
    shown = re.search(r"shows (\w+) digests, one per\s+supervisor", guide)
    assert sent is not None and shown is not None
    assert int(sent.group(1)) == len(mails)  # the digests and the IT summary
    assert number(shown.group(1)) == len(digests)
