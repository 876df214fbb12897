"""Leave-one-author-out: trains the heads on every training file but one and measures the
patterns and classifier together on the file left out, for each file in turn.

Each corpus file has its own author, so this shows what a new author's posts meet (the
blind sets' situation), which k-fold cross-validation over mixed files does not. Needs
scikit-learn (the build environment, ``tools/build_classifier.py``)::

    python tests/corpus/by_author.py --thresholds 0.65,0.7,0.55 0.8,0.8,0.7 [--C 16]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tools"))

import build_classifier as build  # noqa: E402
import crossval  # noqa: E402
import evaluate  # noqa: E402

from auditor.config import ClassifierConfig  # noqa: E402

# The files of the newest authors: each is left out in turn (the older ones always train).
LEFT_OUT = (
    "train-6.jsonl",
    "holdout-2.jsonl",
    "train-7.jsonl",
    "train-8.jsonl",
    "holdout-3.jsonl",
    "holdout-4.jsonl",
    "train-9.jsonl",
    "holdout-5.jsonl",
    "holdout-6.jsonl",
    "holdout-7.jsonl",
    "holdout-8.jsonl",
    "holdout-9.jsonl",
)
Tallies = dict[str, dict[str, evaluate.Tally]]


def main() -> None:
    """Reads the arguments, then prints each file's and the summed figures per setting."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", type=float, default=build.C, dest="c")
    parser.add_argument("--thresholds", nargs="+", required=True, help="DS3,DS6,DS8 each time")
    parser.add_argument("--heads", type=Path, help="keep each left-out file's heads here")
    args = parser.parse_args()
    settings = [
        dict(zip(("DS3", "DS6", "DS8"), map(float, t.split(",")), strict=True))
        for t in args.thresholds
    ]
    totals: list[Tallies] = [{} for _ in settings]
    training = [n for n in build.CORPUS if (HERE / n).exists()]
    for left in LEFT_OUT:
        folder = (args.heads or Path("/tmp/by-author-heads")) / f"C{args.c}" / left
        if not (folder / "model.json").exists():
            crossval.fold_heads(
                folder, build.load_posts([HERE / n for n in training if n != left]), args.c
            )
        posts = build.load_posts([HERE / left])
        for setting, total in zip(settings, totals, strict=True):
            config = ClassifierConfig(path=folder, threshold=setting)
            rules = evaluate.RULES_CONFIG.model_copy(update={"classifier": config})
            tallies, _ = evaluate.evaluate(posts, rules)
            crossval.add(total, tallies)
            print(f"{left:<16} {_named(setting)}  {_figures(tallies)}", flush=True)
    for setting, total in zip(settings, totals, strict=True):
        print(f"{'all left out':<16} {_named(setting)}  {_figures(total)}")


def _named(setting: dict[str, float]) -> str:
    """A threshold setting as ``DS3 0.8 DS6 0.8 DS8 0.7``."""
    return " ".join(f"{rule} {value}" for rule, value in setting.items())


def _figures(tallies: Tallies) -> str:
    """Precision / recall of DS3, DS6 and DS8."""
    return "  ".join(
        f"{rule} {tallies[rule]['all'].precision:.3f}/{tallies[rule]['all'].recall:.3f}"
        for rule in ("DS3", "DS6", "DS8")
    )


if __name__ == "__main__":
    main()
