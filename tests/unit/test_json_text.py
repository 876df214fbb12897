"""JSON read with pydantic-core's parser reads as the standard library reads it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor import json_text

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(VALUES)
def test_every_json_text_reads_as_the_standard_library_reads_it(value: object) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False).encode()):
        assert json_text.loads(text) == json.loads(text)
        assert repr(json_text.loads(text)) == repr(json.loads(text))  # 1 and 1.0 apart


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud83d"',  # a lone surrogate: refused by pydantic-core, read by json
        '{"cursor": "\ud800"}',  # one unescaped, in a str: pydantic-core raises TypeError
        '"\\udc00 and \\ud83d\\ude00"',
        "[" * 300 + "]" * 300,  # deeper than pydantic-core reads
        '{"a": 1, "a": 2}',
        "NaN",
        "[Infinity, -Infinity, 1e999]",
        '{"big": 123456789012345678901234567890, "small": -9223372036854775809}',
        '{"a": 1}'.encode("utf-16-le"),  # not UTF-8: json tells the encoding
    ],
)
def test_what_pydantic_core_refuses_reads_as_json_reads_it(text: str | bytes) -> None:
    assert repr(json_text.loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", ['{"a": "x\ny"}', "[1, 2,]", "{} x", "", "tru", "\ufeff{}"])
def test_a_broken_text_fails_with_the_standard_librarys_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        json_text.loads(text)
    assert str(got.value) == str(expected.value)
