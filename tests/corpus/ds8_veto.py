"""How DS8's veto would treat the phrase lists' findings on authors the heads never saw:
for each file of :data:`by_author.LEFT_OUT`, the heads trained without it score every post
its patterns flag, and the true and false findings under each candidate veto are counted.

Needs scikit-learn (the build environment, ``tools/build_classifier.py``); shares the fold
heads of ``by_author.py``::

    python tests/corpus/ds8_veto.py [--heads /tmp/by-author-heads]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tools"))

import build_classifier as build  # noqa: E402
import by_author  # noqa: E402
import crossval  # noqa: E402
import evaluate  # noqa: E402

from auditor.config import ClassifierConfig  # noqa: E402
from auditor.people import People  # noqa: E402
from auditor.rules import catalog  # noqa: E402
from auditor.rules.base import RuleContext  # noqa: E402
from auditor.text import classifier as learned  # noqa: E402
from auditor.text.matcher import TextMatcher  # noqa: E402

CANDIDATES = (0.005, 0.01, 0.02, 0.05, 0.1)


def main() -> None:
    """Prints, per candidate veto, the true and false pattern findings it would drop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", type=Path, default=Path("/tmp/by-author-heads"))
    args = parser.parse_args()
    found = findings(args.heads / f"C{build.C}")
    true = [f for f in found if f[0]]
    false = [f for f in found if not f[0]]
    print(f"pattern findings: {len(true)} true, {len(false)} false")
    for which, index in (("highest DS8 head", 1), ("the category's own head", 2)):
        for veto in CANDIDATES:
            lost = sum(f[index] < veto for f in true)
            cut = sum(f[index] < veto for f in false)
            print(f"{which:<24} under {veto:<5}: drops {lost} true, {cut} false")


def findings(heads: Path) -> list[tuple[bool, float, float]]:
    """Each pattern finding of the left-out files: whether it is true, the post's highest
    DS8 score and its category's score, from heads trained without that file."""
    training = [n for n in build.CORPUS if (HERE / n).exists()]
    rules = evaluate.RULES_CONFIG.model_copy(update={"classifier": ClassifierConfig(enabled=False)})
    text = TextMatcher(rules, evaluate.DISTRICT)
    ctx = RuleContext(
        evaluate.PAGE, evaluate.DISTRICT, rules, People(evaluate.DISTRICT), datetime.now(UTC), text
    )
    rule = catalog.get(evaluate.RULES["DS8"])
    out = []
    for left in by_author.LEFT_OUT:
        folder = heads / left
        if not (folder / "model.json").exists():
            crossval.fold_heads(
                folder, build.load_posts([HERE / n for n in training if n != left]), build.C
            )
        model = learned.load(folder)
        for post in build.load_posts([HERE / left]):
            page = replace(ctx, text=text.page([post["text"]]))
            got = evaluate.predicted("DS8", rule.check(evaluate.snapshot_of(post), page))
            want = evaluate.expected("DS8", post["labels"])
            scores = {c: model.score(post["text"], f"DS8:{c}") for c in build.DS8}
            out += [(c in want, max(scores.values()), scores[c]) for c in got]
    return out


if __name__ == "__main__":
    main()
