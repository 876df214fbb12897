"""Static sentence embeddings: a text's vector is the mean of its tokens' vectors.

The token vectors were distilled once from a sentence-transformer (``tools/build_classifier
.py``), so embedding a text is a table look-up and a mean in numpy: no neural network runs
here, and nothing is downloaded. The table is stored as int8 with one float32 scale per
token (``embeddings.npy``, ``scales.npy``) beside the ``tokenizer.json`` that numbers the
tokens; both are read without pickle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

MAX_TOKENS = 512  # per text, as the distilled model was made for
_WORD = re.compile(r"[^ \n]+")  # split where the tokenizer always splits
_WORD_CACHE = 50_000  # words whose tokens are kept (then the cache starts again): ~15 MB
_CACHED_WORD = 32  # longer "words" (a CJK post, a URL, base64) are tokenized, not kept


class ModelFileError(ValueError):
    """A model folder that is missing a file or holds one that cannot be read."""


class StaticEmbedding:
    """Token vectors and the tokenizer that numbers them: embeds texts in batches."""

    def __init__(self, tokenizer: Tokenizer, vectors: np.ndarray) -> None:
        self._tokenizer = tokenizer
        self.vectors = vectors  # float32, one row per token id
        self.dims = int(vectors.shape[1])
        self._words: dict[str, tuple[list[int], list[int]]] = {}  # word: its ids and starts

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
        out = []
        for text in texts:
            ids, starts = self._encode(text)
            out.append((np.asarray(ids, dtype=np.int64), np.asarray(starts, dtype=np.int64)))
        return out

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids, without special tokens, cut at :data:`MAX_TOKENS`."""
        return [self._encode(text)[0] for text in texts]

    def _encode(self, text: str) -> tuple[list[int], list[int]]:
        """``text``'s token ids and start offsets (cut at :data:`MAX_TOKENS`), put together
        from its words' (runs of characters between ASCII spaces and line feeds), each
        tokenized once per process. The tokenizer (BERT's normalizer, pre-tokenizer and
        WordPiece) never makes a token across a space or a line feed, and normalizes
        character by character, so a text's tokens are its words' tokens, their offsets
        moved by where each word starts: the same as tokenizing the text whole (a test
        holds it to that), without a call into the tokenizer for every post."""
        ids: list[int] = []
        starts: list[int] = []
        words = self._words
        for match in _WORD.finditer(text):
            word = match.group()
            found = words.get(word)
            if found is None:
                encoding = self._tokenizer.encode(word, add_special_tokens=False)
                found = (encoding.ids, [start for start, _ in encoding.offsets])
                if len(word) <= _CACHED_WORD:
                    if len(words) >= _WORD_CACHE:
                        words.clear()
                    words[word] = found
            at = match.start()
            ids += found[0]
            starts += [at + start for start in found[1]]
            if len(ids) >= MAX_TOKENS:
                break
        return ids[:MAX_TOKENS], starts[:MAX_TOKENS]

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
