"""Plain text and web links of the HTML that platforms put in posts.

Teams chat messages (microsoft365), Canvas discussion topics and entries, Schoology
updates and Google Groups mail carry HTML; the rules read plain text and links.
:func:`html_text` reduces a fragment with the standard library's HTML parser: tags are
dropped, character references decoded, a line break starts at each ``br``, ``p``, ``div``
and ``li``, runs of blank lines become one, and each link's ``href`` is kept when it is a
web address (``http``/``https``: a relative, ``mailto:`` or ``javascript:`` target is no
site a rule can judge), followed by the web addresses written in the text.
:func:`with_urls` does the latter for plain-text bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urlsplit

URL_RE = re.compile(r"https?://[^\s<>\"')]+")
"""A web address written in text, up to a space, angle bracket, quote or ``)``."""
LINE_TAGS = frozenset({"br", "p", "div", "li"})
"""Elements that start a new line of text."""
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
"""HTML elements without an end tag (they do not open a nesting level)."""
BLANK_LINES_RE = re.compile(r"[ \t]*\n(?:[ \t]*\n)+")
"""Two or more line breaks with only blanks between them."""


def with_urls(text: str, links: Iterable[str] = ()) -> list[str]:
    """``links`` followed by the web addresses written in ``text``, each once."""
    return list(dict.fromkeys([*links, *URL_RE.findall(text)]))


def html_text(
    content: str, *, skip_quotes: bool = False, cut_at: re.Pattern[str] | None = None
) -> tuple[str, list[str]]:
    """The plain text of an HTML fragment and its web links (hrefs, then bare URLs).

    ``skip_quotes`` leaves out quoted replies (``blockquote``, Gmail's ``gmail_quote``),
    for mail that repeats the message it answers; ``cut_at`` ends the text at its first
    match (a footer the platform appends), dropping the links from there on too.
    """
    parser = _TextAndLinks(skip_quotes)
    parser.feed(content)
    parser.close()
    text = "".join(parser.text)
    match = cut_at.search(text) if cut_at else None
    end = match.start() if match else len(text)
    text = BLANK_LINES_RE.sub("\n\n", text[:end]).strip()
    return text, with_urls(text, (href for offset, href in parser.links if offset < end))


class _TextAndLinks(HTMLParser):
    """Collects the text of an HTML fragment and its web links with their offset in the
    text; with ``skip_quotes``, quoted replies are left out."""

    def __init__(self, skip_quotes: bool) -> None:
        """An empty collector; feed it the HTML."""
        super().__init__(convert_charrefs=True)
        self.skip_quotes = skip_quotes
        self.text: list[str] = []
        self.links: list[tuple[int, str]] = []
        self._length = 0
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note a web link or a line break; a quote starts a stretch that is left out."""
        values = dict(attrs)
        href = values.get("href")
        if self._skipping:
            self._skipping += tag not in VOID_TAGS
        elif self.skip_quotes and (
            tag == "blockquote" or "gmail_quote" in (values.get("class") or "")
        ):
            self._skipping = 1
        elif tag == "a" and href and urlsplit(href).scheme in ("http", "https"):
            self.links.append((self._length, href))
        elif tag in LINE_TAGS:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        """Close a nesting level of a left-out stretch."""
        if self._skipping and tag not in VOID_TAGS:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        """Keep text outside quotes."""
        if not self._skipping:
            self._add(data)

    def _add(self, piece: str) -> None:
        """Append ``piece`` to the text, keeping track of its length (link offsets)."""
        self.text.append(piece)
        self._length += len(piece)
