"""Static sentence embeddings: a text's vector is the mean of its tokens' vectors.

The token vectors were distilled once from a sentence-transformer (``tools/build_classifier
.py``), so embedding a text is a table look-up and a mean in numpy: no neural network runs
here, and nothing is downloaded. The table is stored as int8 with one float32 scale per
token (``embeddings.npy``, ``scales.npy``) beside the ``tokenizer.json`` that numbers the
tokens; both are read without pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

MAX_TOKENS = 512  # per text, as the distilled model was made for


class ModelFileError(ValueError):
    """A model folder that is missing a file or holds one that cannot be read."""


class StaticEmbedding:
    """Token vectors and the tokenizer that numbers them: embeds texts in batches."""

    def __init__(self, tokenizer: Tokenizer, vectors: np.ndarray) -> None:
        self._tokenizer = tokenizer
        self.vectors = vectors  # float32, one row per token id
        self.dims = int(vectors.shape[1])

    @classmethod
    def load(cls, folder: Path) -> StaticEmbedding:
        """The embedding stored in ``folder``; a :class:`ModelFileError` naming the file
        when one is missing or unreadable."""
        tokenizer_file = folder / "tokenizer.json"
        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # tokenizers raises a bare Exception for every failure
            raise ModelFileError(
                f"{tokenizer_file}: not a tokenizer ({_first_line(exc)})"
            ) from None
        tokenizer.no_padding()
        tokenizer.no_truncation()
        quantized = read_array(folder / "embeddings.npy", ndim=2)
        scales = read_array(folder / "scales.npy", ndim=1)
        if quantized.shape[0] != scales.shape[0] or quantized.shape[0] < tokenizer.get_vocab_size():
            raise ModelFileError(
                f"{folder}: embeddings.npy has {quantized.shape[0]} rows, scales.npy "
                f"{scales.shape[0]}, the tokenizer {tokenizer.get_vocab_size()} tokens"
            )
        vectors = quantized.astype(np.float32) * scales.astype(np.float32)[:, None]
        return cls(tokenizer, vectors)

    def tokens(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text's token ids and the character offsets where they start, without
        special tokens, cut at :data:`MAX_TOKENS`."""
        if len(texts) == 1:  # one post: no thread pool for a batch of one
            encodings = [self._tokenizer.encode(texts[0], add_special_tokens=False)]
        else:
            encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [
            (
                np.asarray(e.ids[:MAX_TOKENS], dtype=np.int64),
                np.asarray([start for start, _ in e.offsets[:MAX_TOKENS]], dtype=np.int64),
            )
            for e in encodings
        ]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids, without special tokens, cut at :data:`MAX_TOKENS`."""
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [e.ids[:MAX_TOKENS] for e in encodings]

    def mean(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """One unit-length row per text: the mean of its token vectors (zeros for a text
        with no tokens)."""
        out = np.zeros((len(ids), self.dims), dtype=np.float32)
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        filled = np.flatnonzero(lengths)
        if filled.size:
            flat = np.fromiter(
                (t for i in filled for t in ids[i]), dtype=np.int64, count=int(lengths.sum())
            )
            starts = np.concatenate(([0], np.cumsum(lengths[filled])[:-1]))
            sums = np.add.reduceat(self.vectors[flat], starts, axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            out[filled] = sums / np.maximum(norms, 1e-9)
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts``, one row each."""
        return self.mean(self.token_ids(texts))


def read_array(path: Path, ndim: int) -> np.ndarray:
    """A ``.npy`` array of ``ndim`` dimensions (never a pickle); a
    :class:`ModelFileError` naming the file otherwise."""
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: missing") from None
    except (OSError, ValueError, EOFError) as exc:
        raise ModelFileError(f"{path}: not a numpy array file ({_first_line(exc)})") from None
    if array.ndim != ndim or not np.issubdtype(array.dtype, np.number):
        raise ModelFileError(f"{path}: expected a {ndim}-d numeric array, got {array.shape}")
    return array


def _first_line(exc: BaseException) -> str:
    """An exception's message, first line only, for a one-line error."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
