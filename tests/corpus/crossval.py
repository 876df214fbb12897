"""Cross-validates the content rules with the classifier: patterns and heads together, on
posts the heads were not trained on.

The posts of ``--split`` (default ``train-6.jsonl``, written by an author who saw neither
the rules nor the classifier; several files may be named) are cut into ``--folds`` parts;
for each part, heads are trained once as ``tools/build_classifier.py`` trains them, on every
training file but that part, into a temporary model folder (the shipped embeddings, new
heads), and the rules are evaluated on the part with ``[rules.classifier] path`` set to it,
once per threshold asked for. The tallies of all parts are summed and printed per rule and
category. Never reads an unspent held-out file. Needs scikit-learn and scipy
(alt-profanity-check already brings them).

    python tests/corpus/crossval.py [--folds 5] [--split FILE ...] [--C 16]
        [--threshold T ... | --thresholds DS3,DS6,DS8 ...]
"""

from __future__ import annotations

import argparse
import contextlib
import io
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

Setting = dict[str, float]  # a threshold per rule; {} for the configured defaults


def main() -> None:
    """Reads the arguments, cross-validates and prints each threshold setting's figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--split", type=Path, nargs="+", default=[HERE / "train-6.jsonl"])
    parser.add_argument("--C", type=float, default=build.C, dest="c")
    parser.add_argument(
        "--heads",
        type=Path,
        help="keep each fold's heads in this folder and reuse them when there (to try rule "
        "changes without training again; delete it when the corpus, C or features change)",
    )
    parser.add_argument("--errors", action="store_true", help="list misclassified posts")
    parser.add_argument(
        "--threshold", type=float, nargs="+", help="one threshold for DS3, DS6 and DS8 each time"
    )
    parser.add_argument(
        "--thresholds", nargs="+", help="a threshold per rule each time: DS3,DS6,DS8 (0.8,0.7,0.6)"
    )
    args = parser.parse_args()
    settings: list[Setting] = [
        dict.fromkeys(("DS3", "DS6", "DS8"), t) for t in args.threshold or []
    ]
    for triple in args.thresholds or []:
        ds3, ds6, ds8 = (float(v) for v in triple.split(","))
        settings.append({"DS3": ds3, "DS6": ds6, "DS8": ds8})
    totals = cross_validate(args.split, args.folds, args.c, settings or [{}], args.heads)
    count = sum(len(build.load_posts([s])) for s in args.split)
    names = "+".join(s.name for s in args.split)
    for setting, total in zip(settings or [{}], totals, strict=True):
        named = ", ".join(f"{k} {v}" for k, v in setting.items()) or "default thresholds"
        print(
            f"\n{args.folds}-fold cross-validation on {names} ({count} posts), C {args.c}, {named}:"
        )
        print_tallies(*total, errors=args.errors)


def cross_validate(
    splits: list[Path], folds: int, c: float, settings: list[Setting], heads: Path | None = None
) -> list[tuple[dict[str, dict[str, evaluate.Tally]], dict[str, int]]]:
    """The summed tallies and deciders of each threshold setting, the heads of each fold
    trained once (or read from ``heads``, where they are kept)."""
    named = {s.resolve() for s in splits}
    files = [HERE / name for name in build.CORPUS if (HERE / name).exists()]
    others = build.load_posts([f for f in files if f.resolve() not in named])
    posts = build.load_posts(splits)
    random.Random(build.SEED).shuffle(posts)
    totals: list[tuple[dict[str, dict[str, evaluate.Tally]], dict[str, int]]] = [
        ({}, {}) for _ in settings
    ]
    for fold in range(folds):
        held = posts[fold::folds]
        kept = [p for i, p in enumerate(posts) if i % folds != fold]
        with tempfile.TemporaryDirectory() as tmp:
            folder = heads / f"fold-{fold}" if heads else Path(tmp)
            if not (folder / "model.json").exists():
                fold_heads(folder, others + kept, c)
            for setting, (total, decided) in zip(settings, totals, strict=True):
                config = ClassifierConfig(path=folder, threshold=setting)
                rules = evaluate.RULES_CONFIG.model_copy(update={"classifier": config})
                tallies, deciders = evaluate.evaluate(held, rules)
                add(total, tallies)
                for key, n in deciders.items():
                    decided[key] = decided.get(key, 0) + n
    return totals


def fold_heads(folder: Path, posts: list[dict], c: float) -> None:
    """A model folder: the shipped embeddings and heads trained on ``posts``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "embeddings.npy", "scales.npy"):
        shutil.copy(build.OUT / name, folder / name)
    with contextlib.redirect_stdout(io.StringIO()):  # the heads' counts, per fold
        build.train(folder, posts, c)
    meta = {"format": build.FORMAT, "heads": list(build.HEADS)}
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")


def add(
    total: dict[str, dict[str, evaluate.Tally]], tallies: dict[str, dict[str, evaluate.Tally]]
) -> None:
    """Adds one fold's tallies, per rule and category, to ``total``."""
    for rule, by_category in tallies.items():
        for category, t in by_category.items():
            into = total.setdefault(rule, {}).setdefault(category, evaluate.Tally())
            into.tp += t.tp
            into.fp += t.fp
            into.fn += t.fn
            into.errors += t.errors


def print_tallies(
    total: dict[str, dict[str, evaluate.Tally]], decided: dict[str, int], errors: bool = False
) -> None:
    """The summed figures per rule, then per category (and the misclassified posts)."""
    evaluate.print_table(total, errors)
    for rule in ("DS3", "DS6", "DS8"):
        print(
            f"  {rule}: true positives {decided.get(f'{rule} tp pattern', 0)} by pattern, "
            f"{decided.get(f'{rule} tp classifier', 0)} by the classifier; false positives "
            f"{decided.get(f'{rule} fp pattern', 0)} by pattern, "
            f"{decided.get(f'{rule} fp classifier', 0)} by the classifier"
        )


if __name__ == "__main__":
    main()
