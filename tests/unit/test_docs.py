"""The contracts in docs/ stay true: generated pages equal what the code generates now,
and nothing in the repository points at a design document outside it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import gen_docs  # noqa: E402


@pytest.mark.parametrize("name", sorted(gen_docs.PAGES))
def test_generated_page_is_up_to_date(name: str) -> None:
    committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert committed == gen_docs.PAGES[name](), f"run: python tools/gen_docs.py ({name})"


def test_snapshot_schema_judges_the_sample_pages_as_the_model_does() -> None:
    import jsonschema
    from pydantic import ValidationError

    from auditor.snapshot import PageSnapshot

    schema = json.loads((ROOT / "docs" / "snapshot.schema.json").read_text())
    verdicts = []
    for path in sorted((ROOT / "auditor" / "sample" / "pages").glob("*.json")):
        data = json.loads(path.read_text())
        try:
            PageSnapshot.model_validate(data)
            model_ok = True
        except ValidationError:
            model_ok = False
        schema_ok = jsonschema.Draft202012Validator(schema).is_valid(data)
        verdicts.append((path.name, model_ok, schema_ok))
    assert all(model_ok == schema_ok for _, model_ok, schema_ok in verdicts), verdicts
    assert any(ok for _, ok, _ in verdicts) and not all(ok for _, ok, _ in verdicts)


def test_every_rule_has_its_section_in_the_catalog() -> None:
    from auditor.rules import catalog

    text = (ROOT / "docs" / "rules.md").read_text()
    for rule in catalog.all_rules():
        assert f"## {rule.id}\n" in text
        assert rule.rationale in text


def test_nothing_points_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.toml", "*.j2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    this = Path(__file__).resolve().relative_to(ROOT).as_posix()
    citing = [f for f in tracked if f != this and "DESIGN.md" in (ROOT / f).read_text("utf-8")]
    assert not citing
