"""The distributions that install rules are part of every page's inputs: ``name
version`` of each, its metadata read once however many rules it installs."""

from __future__ import annotations

from importlib.metadata import Distribution
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import auditor.evaluation
from auditor.evaluation import _rule_distributions
from auditor.rules import catalog


class CountingDistribution(Distribution):
    """A distribution whose METADATA is given, counting how often it is read."""

    def __init__(self, name: str, version: str) -> None:
        self.text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        self.reads = 0

    def read_text(self, filename: str) -> str | None:
        if filename in ("METADATA", "PKG-INFO"):
            self.reads += 1
            return self.text
        return None

    def locate_file(self, path: Any) -> Path:
        return Path(path)


def points_of(dist: Distribution, *names: str) -> list[SimpleNamespace]:
    """Entry points of ``dist`` as ``entry_points()`` gives them (sharing its object)."""
    return [
        SimpleNamespace(name=name, group=catalog.ENTRY_POINT_GROUP, dist=dist) for name in names
    ]


def test_each_installing_distribution_once_with_its_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = CountingDistribution("page-auditor", "0.1.0")
    extra = CountingDistribution("district-rules", "2.3")
    points = points_of(core, "DS1.a", "DS2.b", "DS2.c") + points_of(extra, "X.d", "X.e")
    monkeypatch.setattr(auditor.evaluation, "entry_points", lambda group: points)
    assert _rule_distributions() == {"page-auditor 0.1.0", "district-rules 2.3"}
    assert (core.reads, extra.reads) == (1, 1)
    extra.text = extra.text.replace("2.3", "2.4")  # the plugin upgraded
    assert "district-rules 2.4" in _rule_distributions()
