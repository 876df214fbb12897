"""``safe_url``: only an http(s) URL with a host becomes a link; a control character or a
space anywhere in it (which a browser skips, so it can hide a ``javascript:`` scheme from
the check) refuses it, whatever its length."""

from __future__ import annotations

import pytest

from auditor.reports.environment import safe_url

TEAMS = "https://teams.microsoft.com/l/channel/19%3a" + "a" * 400 + "%40thread.tacv2/General"


@pytest.mark.parametrize(
    "url",
    [
        "https://district.org/clubs/robotics",
        "http://example.org/a?b=c#d",
        TEAMS,
        "  https://x.org  ",
    ],
)
def test_http_urls_with_a_host_are_kept(url: str) -> None:
    assert safe_url(url) == url.strip()


@pytest.mark.parametrize("char", [chr(code) for code in range(0x21)])
def test_a_control_character_or_space_anywhere_refuses_the_url(char: str) -> None:
    assert safe_url(f"java{char}script:alert(1)") is None
    assert safe_url(f"https://district.org/{char}page") is None
    assert safe_url(TEAMS[:200] + char + TEAMS[200:]) is None


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,x", "https:///no-host", "//district.org/x", "", None],
)
def test_other_schemes_and_hostless_urls_are_refused(url: str | None) -> None:
    assert safe_url(url) is None


def test_characters_past_the_space_are_kept() -> None:
    assert safe_url("https://district.org/!~") == "https://district.org/!~"
