"""The content rules reach precision and recall of 0.9 on the labeled corpus."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EVALUATE = Path(__file__).parents[1] / "corpus" / "evaluate.py"


def _evaluate_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_evaluate", EVALUATE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tallies() -> dict:
    module = _evaluate_module()
    tallies, _deciders = module.evaluate(module.load())
    return tallies


@pytest.mark.parametrize("rule", ["DS3", "DS6", "DS7", "DS8"])
def test_rule_meets_target(tallies: dict, rule: str) -> None:
    overall = tallies[rule]["all"]
    assert overall.tp > 0
    assert overall.precision >= 0.9, overall.errors
    assert overall.recall >= 0.9, overall.errors
