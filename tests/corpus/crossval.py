"""Cross-validates the content rules with the classifier: patterns and heads together, on
posts the heads were not trained on.

The posts of ``--split`` (default ``train-4.jsonl``, written by an author the patterns were
not tuned on) are cut into ``--folds`` parts; for each part, heads are trained as
``tools/build_classifier.py`` trains them, on every training file but that part, into a
temporary model folder (the shipped embeddings, new heads), and the rules are evaluated on
the part with ``[rules.classifier] path`` set to it. The tallies of all parts are summed.
Never reads a held-out file. Needs scikit-learn and scipy (a dependency of
alt-profanity-check already brings them).

    python tests/corpus/crossval.py [--folds 5] [--split FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1] / "tools"))
sys.path.insert(0, str(HERE))

import build_classifier as build  # noqa: E402
import evaluate  # noqa: E402

from auditor.config import ClassifierConfig  # noqa: E402


def main() -> None:
    """Reads the arguments and reports each threshold asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--split", type=Path, default=HERE / "train-4.jsonl")
    parser.add_argument(
        "--threshold",
        type=float,
        nargs="+",
        help="one threshold for DS3, DS6 and DS8 each time (default: the configured ones)",
    )
    args = parser.parse_args()
    for threshold in args.threshold or [None]:
        report(args, threshold)


def report(args: argparse.Namespace, threshold: float | None) -> None:
    """Trains and evaluates each fold with one threshold (None: the defaults), then prints
    the summed figures."""
    files = [HERE / name for name in build.CORPUS if (HERE / name).exists()]
    others = build.load_posts([f for f in files if f.resolve() != args.split.resolve()])
    posts = build.load_posts([args.split])
    random.Random(build.SEED).shuffle(posts)
    total: dict[str, evaluate.Tally] = {}
    decided: dict[str, int] = {}
    for fold in range(args.folds):
        held = posts[fold :: args.folds]
        kept = [p for i, p in enumerate(posts) if i % args.folds != fold]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for name in ("tokenizer.json", "embeddings.npy", "scales.npy"):
                shutil.copy(build.OUT / name, folder / name)
            build.train(folder, others + kept, build.C)
            meta = {"format": build.FORMAT, "heads": list(build.HEADS)}
            (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
            chosen = {} if threshold is None else dict.fromkeys(("DS3", "DS6", "DS8"), threshold)
            settings = ClassifierConfig(path=folder, threshold=chosen)
            rules = evaluate.RULES_CONFIG.model_copy(update={"classifier": settings})
            tallies, deciders = evaluate.evaluate(held, rules)
        for rule, by_category in tallies.items():
            tally = total.setdefault(rule, evaluate.Tally())
            tally.tp += by_category["all"].tp
            tally.fp += by_category["all"].fp
            tally.fn += by_category["all"].fn
        for key, count in deciders.items():
            decided[key] = decided.get(key, 0) + count
    named = "default thresholds" if threshold is None else f"threshold {threshold}"
    print(f"{args.folds}-fold cross-validation on {args.split.name} ({len(posts)} posts), {named}:")
    print(f"{'rule':<6} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>5} {'fn':>5}")
    for rule, t in total.items():
        print(f"{rule:<6} {t.precision:>9.3f} {t.recall:>7.3f} {t.tp:>5} {t.fp:>5} {t.fn:>5}")
    for rule in ("DS3", "DS6", "DS8"):
        learned = decided.get(f"{rule} tp classifier", 0)
        print(
            f"  {rule}: true positives {decided.get(f'{rule} tp pattern', 0)} by pattern, "
            f"{learned} by the classifier"
        )


if __name__ == "__main__":
    main()
