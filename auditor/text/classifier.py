"""The learned content classifier: a score in [0, 1] per head (``DS3``, ``DS6:health``,
``DS8:political`` ...) for a post, from its static embedding (:mod:`auditor.text.embedding`).

A post's features are the mean of its token vectors, the element-wise maximum over its
sentences' means (so one bad sentence in a long post still shows), and the set of its
tokens; each head is a logistic regression over them, trained by
``tools/build_classifier.py``. The same code loads the shipped model
(``auditor/data/classifier``) and a district's own (``[rules.classifier] path``); a folder
is read once per process.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from auditor.text.embedding import ModelFileError, StaticEmbedding, read_array
from auditor.text.sentences import SENTENCE_SPLIT_RE, sentences

FORMAT = "page-auditor-classifier/1"
_CACHE_SIZE = 4096  # posts whose scores are kept: every rule of a page asks for them
_BATCH = 1024  # texts whose features are made at once


@dataclass(frozen=True)
class Trigger:
    """The sentence of a post that scores highest for one head, and that score."""

    sentence: str
    score: float


class Classifier:
    """Heads over static embeddings: scores posts and names the sentence behind a score."""

    def __init__(
        self,
        embedding: StaticEmbedding,
        heads: Sequence[str],
        dense: np.ndarray,
        tokens: np.ndarray,
        bias: np.ndarray,
    ) -> None:
        self.embedding = embedding
        self.heads = tuple(heads)
        self._column = {head: i for i, head in enumerate(self.heads)}
        self._dense = dense.astype(np.float32)  # heads x (2 * dims)
        self._tokens = tokens.astype(np.float32)  # vocabulary x heads
        self._bias = bias.astype(np.float32)
        # Per post: every head's score, and its tokens (ids, starts) for its sentences' own.
        self._cache: OrderedDict[str, tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = (
            OrderedDict()
        )
        self._triggers: OrderedDict[str, tuple[list[str], np.ndarray]] = OrderedDict()

    def score(self, text: str, head: str) -> float:
        """The score of ``head`` (e.g. ``"DS6:health"``) for one post."""
        return float(self._post(text)[0][self._column[head]])

    def _post(self, text: str) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """A post's scores and tokens, computed once (kept for :data:`_CACHE_SIZE` posts)."""
        found = self._cache.get(text)
        if found is None:
            tokens = self.embedding.tokens([text])
            dense, ids = _features(self.embedding, [text], tokens)
            found = self._cache[text] = (self._combine(dense, ids)[0], tokens[0])
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def prime(self, texts: Sequence[str]) -> None:
        """Scores the texts not kept yet all at once, as :meth:`score` will be asked for
        them: a page's posts in one batch cost a few numpy calls, one by one a few dozen
        each. At most :data:`_CACHE_SIZE` are kept, so the rest of a larger batch is left
        to :meth:`score`."""
        todo = [text for text in dict.fromkeys(texts) if text not in self._cache]
        todo = todo[:_CACHE_SIZE]
        if not todo:
            return
        tokens = self.embedding.tokens(todo)
        dense, ids = _features(self.embedding, todo, tokens)
        for text, scores, found in zip(todo, self._combine(dense, ids), tokens, strict=True):
            self._cache[text] = (scores, found)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    def has(self, head: str) -> bool:
        """Whether the model has ``head``."""
        return head in self._column

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Scores of every head (columns, in :attr:`heads` order) for each text (rows)."""
        dense, ids = features(self.embedding, texts)
        return self._combine(dense, ids)

    def trigger(self, text: str, head: str) -> Trigger:
        """The sentence of ``text`` that ``head`` scores highest on its own."""
        parts = sentences(text) or [text.strip()]
        if len(parts) == 1:  # one sentence: its features are the post's
            return Trigger(parts[0], self.score(text, head))
        found = self._triggers.get(text)
        if found is None:  # every head's scores of every sentence, for the post's other heads
            found = self._triggers[text] = self._sentence_scores(text)
            if len(self._triggers) > _CACHE_SIZE:
                self._triggers.popitem(last=False)
        named, scores = found
        column = scores[:, self._column[head]]
        best = int(np.argmax(column))
        return Trigger(named[best], float(column[best]))

    def _sentence_scores(self, text: str) -> tuple[list[str], np.ndarray]:
        """The post's sentences that hold tokens, and every head's scores of each read on
        its own, from the post's tokens (a sentence alone is tokenized as it is inside
        the post: sentences end where no word piece crosses)."""
        ids, starts = self._post(text)[1]
        pieces = SENTENCE_SPLIT_RE.split(text)
        cuts = [m.end() for m in SENTENCE_SPLIT_RE.finditer(text)]
        of_token = np.searchsorted(cuts, starts, side="right")
        named: list[str] = []
        rows: list[np.ndarray] = []
        groups: list[np.ndarray] = []
        for piece in np.unique(of_token):
            members = ids[of_token == piece]
            total = self.embedding.vectors[members].sum(axis=0)
            unit = total / max(float(np.linalg.norm(total)), 1e-9)
            named.append(pieces[piece].strip())
            rows.append(np.concatenate([unit, unit]))
            groups.append(members)
        return named, self._combine(np.asarray(rows, dtype=np.float32), groups)

    def _combine(self, dense: np.ndarray, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """The heads' probabilities from the dense features and each text's token ids."""
        logits = dense @ self._dense.T + self._bias
        counts = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        if counts.any():  # each text's distinct tokens' weights, summed, for all at once
            size = len(self._tokens)
            keyed = np.concatenate(
                [np.asarray(i, dtype=np.int64) + row * size for row, i in enumerate(ids) if len(i)]
            )
            distinct = np.unique(keyed)
            text_of = distinct // size
            firsts = np.flatnonzero(np.r_[True, text_of[1:] != text_of[:-1]])
            weights = np.add.reduceat(self._tokens[distinct % size], firsts, axis=0)
            logits[text_of[firsts]] += weights
        return 1.0 / (1.0 + np.exp(-logits))


def features(embedding: StaticEmbedding, texts: Sequence[str]) -> tuple[np.ndarray, list]:
    """Per text, the dense features (mean embedding, then the maximum over sentences) and
    its token ids: what the heads read, in training and at run time alike. Each text is
    tokenized once; a token's sentence is told by where it starts (sentences end at line
    breaks and ``.!?``, which no word piece crosses)."""
    return _features(embedding, texts, embedding.tokens(texts))


def _features(
    embedding: StaticEmbedding,
    texts: Sequence[str],
    tokens: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, list]:
    """:func:`features` from the texts' tokens (ids and start offsets), :data:`_BATCH`
    texts at a time (a batch's token vectors are gathered at once: a training corpus
    whole would take gigabytes)."""
    dense: list[np.ndarray] = [np.zeros((0, 2 * embedding.dims), dtype=np.float32)]
    ids: list = []
    for at in range(0, len(texts), _BATCH):
        part = _batch_features(embedding, texts[at : at + _BATCH], tokens[at : at + _BATCH])
        dense.append(part[0])
        ids += part[1]
    return np.concatenate(dense), ids


def _batch_features(
    embedding: StaticEmbedding,
    texts: Sequence[str],
    tokens: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, list]:
    """:func:`_features` of one batch, all its texts at once: the texts are laid end to
    end, each text's start a sentence end too, so one sum per sentence and one per text
    serve every text (numpy calls per batch, not per text, which cost more than the
    arithmetic on posts this short)."""
    dims = embedding.dims
    dense = np.zeros((len(texts), 2 * dims), dtype=np.float32)
    ids = [found for found, _ in tokens]
    counts = np.fromiter((len(found) for found in ids), dtype=np.int64, count=len(ids))
    rows = np.flatnonzero(counts)
    if not rows.size:
        return dense, ids
    offsets = np.cumsum([0] + [len(text) + 1 for text in texts])
    cuts: list[int] = []
    for row in rows.tolist():
        at = int(offsets[row])
        cuts.append(at)
        cuts += [at + m.end() for m in SENTENCE_SPLIT_RE.finditer(texts[row])]
    starts = np.concatenate([tokens[row][1] + offsets[row] for row in rows.tolist()])
    sentence = np.searchsorted(np.asarray(cuts, dtype=np.int64), starts, side="right")
    firsts = np.flatnonzero(np.r_[True, sentence[1:] != sentence[:-1]])
    vectors = embedding.vectors[np.concatenate([ids[row] for row in rows.tolist()])]
    sums = np.add.reduceat(vectors, firsts, axis=0)  # one row per sentence
    # The first sentence of each text: its first token's.
    token_firsts = np.r_[0, np.cumsum(counts[rows])[:-1]]
    text_firsts = np.searchsorted(firsts, token_firsts)
    totals = np.add.reduceat(sums, text_firsts, axis=0)
    dense[rows, :dims] = totals / np.maximum(np.linalg.norm(totals, axis=1, keepdims=True), 1e-9)
    norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
    dense[rows, dims:] = np.maximum.reduceat(sums / norms, text_firsts, axis=0)
    return dense, ids


@lru_cache(maxsize=8)
def load(folder: Path) -> Classifier:
    """The classifier stored in ``folder`` (read once per process); a
    :class:`ModelFileError` naming the folder or file when it is missing or corrupt."""
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: no such model folder")
    meta_file = folder / "model.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{meta_file}: missing") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{meta_file}: not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{meta_file}: not a {FORMAT} model description")
    heads = meta.get("heads")
    if not isinstance(heads, list) or not all(isinstance(h, str) for h in heads):
        raise ModelFileError(f"{meta_file}: 'heads' must be a list of names")
    embedding = StaticEmbedding.load(folder)
    dense = read_array(folder / "head_dense.npy", ndim=2)
    tokens = read_array(folder / "head_tokens.npy", ndim=2)
    bias = read_array(folder / "head_bias.npy", ndim=1)
    shapes = (dense.shape, tokens.shape, bias.shape)
    if shapes != (
        (len(heads), 2 * embedding.dims),
        (len(embedding.vectors), len(heads)),
        (len(heads),),
    ):
        raise ModelFileError(
            f"{folder}: head arrays of shapes {shapes} do not fit {len(heads)} heads"
        )
    return Classifier(embedding, heads, dense, tokens, bias)
