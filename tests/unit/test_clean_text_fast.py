"""clean_text's fast path (a printable string is returned as it is) replaces exactly the
characters the unshowable-character pattern does, for every code point."""

from __future__ import annotations

from auditor.snapshot import _UNSHOWABLE, clean_text

PLANE_ENDS = [plane * 0x10000 + end for plane in range(17) for end in (0xFFFE, 0xFFFF)]


def test_every_code_point_is_cleaned_as_the_pattern_says() -> None:
    for point in [*range(1, 0x20000), *PLANE_ENDS]:
        if 0xD800 <= point < 0xE000:
            continue  # lone surrogates: replaced before (tests of the snapshot boundary)
        char = chr(point)
        for value in (char, f"a{char}b\n", f"x\t{char}\r\n"):
            assert clean_text(value) == _UNSHOWABLE.sub("\ufffd", value), hex(point)


def test_strings_with_nuls_and_lone_surrogates_are_still_cleaned() -> None:
    assert clean_text("a\0b\x07c\n") == "ab\ufffdc\n"
    assert clean_text("x\ud800y") == "x\ufffdy"
    assert clean_text("\ud83d\ude00 ok") == "😀 ok"  # a pair written as two escapes
