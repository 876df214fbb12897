"""The embedding's word-cached tokenization gives exactly the token ids and start offsets of
tokenizing each text whole with the model's tokenizer: over every corpus post and over odd
texts (Spanish, emoji, CJK, combining marks, every kind of space, control characters, long
words, texts over the token limit)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from auditor.text.embedding import MAX_TOKENS, StaticEmbedding
from auditor.text.sentences import shipped_model

CORPUS = sorted((Path(__file__).parents[1] / "corpus").glob("*.jsonl"))
ODD = [
    "",
    " ",
    "\n\n",
    "  leading and trailing  ",
    "¡Práctica mañana a las 4! Niños y niñas, traigan agua. ¿Preguntas? Señora Muñoz",
    "Ça coûte 5 € — déjà vu, naïve café",
    "Great game 🏀🔥🔥 see you 👨‍👩‍👧‍👦 at 7pm 🇺🇸!!",
    "練習は明日です。数学クラブ 수학 동아리 数学俱乐部",
    "e\u0301 combining acute, a\u0308, \u0301 alone after a space",
    "tabs\tand\u00a0no-break\u2003em space\u2028line sep\u3000ideographic\r\nCRLF",
    "controls \x01\x1f\x7f here\x00 and a \ufffd replacement \u200b zero width \u200d joiner",
    "supercalifragilisticexpialidocious" * 6,
    "a" * 99 + " " + "b" * 100 + " " + "c" * 101,
    "https://forms.gle/abc?x=1&y=2 kid@students.district.org (203) 555-0147 @sam-bakes",
    "İstanbul ǅ ß ﬁ Ⅻ ① ＡＢＣ ﹏ ＿",
    "مرحبا بالطلاب שלום עולם नमस्ते",
    "word " * 700,  # over MAX_TOKENS
    "x" + "\n" * 5 + "y. z! w? " * 300,
]


def corpus_texts() -> list[str]:
    """Every post of the labelled corpus."""
    texts = []
    for path in CORPUS:
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return texts


@pytest.fixture(scope="module")
def embedding() -> StaticEmbedding:
    return StaticEmbedding.load(shipped_model())


def whole(embedding: StaticEmbedding, text: str) -> tuple[list[int], list[int]]:
    """The text tokenized whole by the model's tokenizer, as the embedding did before."""
    encoding = embedding._tokenizer.encode(text, add_special_tokens=False)
    return encoding.ids[:MAX_TOKENS], [start for start, _ in encoding.offsets[:MAX_TOKENS]]


def test_tokens_equal_the_tokenizers_on_every_corpus_post_and_odd_texts(
    embedding: StaticEmbedding,
) -> None:
    texts = corpus_texts() + ODD
    assert len(texts) > 6000
    got = embedding.tokens(texts) + embedding.tokens(texts)  # cold, then from the cache
    for index, (ids, starts) in enumerate(got):
        want_ids, want_starts = whole(embedding, texts[index % len(texts)])
        assert ids.tolist() == want_ids, texts[index % len(texts)][:80]
        assert starts.tolist() == want_starts, texts[index % len(texts)][:80]
    assert len(got[len(texts) - 2][0]) == MAX_TOKENS  # "word " * 700 was cut


def test_token_ids_and_embeddings_follow_the_same_tokens(embedding: StaticEmbedding) -> None:
    ids = embedding.token_ids(ODD)
    assert ids == [whole(embedding, text)[0] for text in ODD]
    vectors = embedding.embed(ODD)
    assert vectors.shape == (len(ODD), embedding.dims)
    assert np.allclose(vectors[0], 0) and np.isclose(np.linalg.norm(vectors[4]), 1, atol=1e-5)


def test_only_short_words_are_kept_so_the_cache_stays_small() -> None:
    embedding = StaticEmbedding.load(shipped_model())  # its own, empty cache
    long_word = "测试" * 200  # a CJK post has no spaces: one "word" of 400 characters
    url = "https://example.org/" + "a1b2c3" * 40
    (ids, _), *_ = embedding.tokens([f"{long_word} short words {url}"])
    assert ids.tolist() == whole(embedding, f"{long_word} short words {url}")[0]
    assert set(embedding._words) == {"short", "words"}
