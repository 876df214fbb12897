"""A page's stored pieces (``Pieces.pack``) read back as they were, whatever their text
holds, and stored bytes that are not a page's pieces refused with the errors the report
catches (it then renders the page again)."""

from __future__ import annotations

import json
import struct

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from auditor.reports.pieces import Pieces

TEXT = st.text(max_size=40)  # any character, NUL, newlines and bidi controls among them


@st.composite
def pieces(draw: st.DrawFn) -> Pieces:
    """Pieces of a page with any number of results, some of them planned."""
    count = draw(st.integers(0, 6))
    plans = [draw(st.sampled_from([[], [draw(TEXT), draw(TEXT)]])) for _ in range(count)]
    return Pieces(
        draw(TEXT),
        [draw(TEXT) for _ in range(count)],
        draw(TEXT),
        [draw(TEXT) for _ in range(count)],
        draw(TEXT),
        plans,
        draw(TEXT),
    )


@given(pieces())
def test_pieces_read_back_as_they_were_stored(made: Pieces) -> None:
    assert Pieces.unpack(made.pack()) == made


def stored(text: str) -> bytes:
    """Bytes as the store keeps them, around ``text``."""
    return zstandard.compress(text.encode(), 1)


@pytest.mark.parametrize(
    "body",
    [
        stored("no header line"),
        stored('[1,"2",1,1,1,1,1,1,1]\nshort'),  # texts longer than what follows
        stored('[1,"0",1,1,1,1]\nabcdef'),  # one result but no CSV cells for it
        stored('[1,"3",1,1,1,1,1]\nabcde'),  # a plan of three cells
        stored('[1,"0",1,1,1,1,-1]\nabcde'),  # a negative length
        stored('["1","0",1,1,1,1,1]\nabcde'),  # a count that is not a number
        stored('{"head":1}\nx'),
        b"not compressed at all",
    ],
)
def test_bytes_that_are_not_a_pages_pieces_are_refused(body: bytes) -> None:
    with pytest.raises((ValueError, TypeError, zstandard.ZstdError, json.JSONDecodeError)):
        Pieces.unpack(body)


def test_a_body_declaring_more_than_any_page_holds_is_refused_before_it_is_allocated() -> None:
    # A zstd frame header declaring 1 TiB of content, and one empty raw block.
    frame = struct.pack("<I", 0xFD2FB528) + b"\xe0" + struct.pack("<Q", 1 << 40) + b"\x01\x00\x00"
    assert zstandard.frame_content_size(frame) == 1 << 40
    with pytest.raises(ValueError, match="larger than any page's"):
        Pieces.unpack(frame)


def test_a_header_nested_too_deep_for_json_is_refused() -> None:
    with pytest.raises(ValueError):
        Pieces.unpack(stored("[" * 100_000 + "\n"))
    with pytest.raises(ValueError):
        Pieces.unpack(stored('[0,"",{"a":' * 10_000 + "\n"))


def test_a_damaged_body_is_refused_never_read_as_other_pieces() -> None:
    made = Pieces(
        '"id":"p0"',
        ['{"rule":"DS2.closed"'],
        "p0,Chess",
        ["DS2.closed,Closed"],
        "p0",
        [[]],
        "<article>Chess Club\x00history\x01\x00</article>",
    )
    body = made.pack()
    for at in range(len(body)):
        for bit in range(8):
            bent = bytearray(body)
            bent[at] ^= 1 << bit
            try:
                back = Pieces.unpack(bytes(bent))
            except (ValueError, TypeError, KeyError, IndexError, zstandard.ZstdError):
                continue
            assert back == made, f"byte {at} bit {bit} read back as other pieces"
