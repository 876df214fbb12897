"""Finds URLs in text (bare domains too) and tells district, allowed, personal-social and
other sites apart by registered domain, using the public suffix list bundled with
publicsuffixlist (no network access; it loads in a third of the time tldextract
takes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from auditor.text.phrases import data_file
from auditor.text.scan import PatternSet

LinkKind = Literal["district", "allowed", "personal-social", "non-district"]

# A bare domain's first label is followed by a dot (the possessive lookahead says so in one
# pass over the word, before the labels are tried a character at a time).
_URL_RE = re.compile(
    r"(?<![@\w.\-/])"
    r"((?:https?://|www\.)[^\s<>\"'\[\]{}|\\^`]+"
    r"|(?=[a-z0-9-]*+\.[a-z0-9])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?::\d{2,5})?"
    r"(?:/[^\s<>\"'\[\]{}|\\^`]*)?)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)'\"*>"
# Payment handles written without a link: a Cash App $cashtag or "Venmo @handle".
_CASHTAG_RE = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9_-]{1,19})\b")
_VENMO_RE = re.compile(r"\bvenmo\b[^@\n]{0,12}@([A-Za-z0-9_-]{3,30})", re.IGNORECASE)
# Looked for in the shared RE2 pass: most posts hold none, and skip the searches below.
_SHAPES = PatternSet([_CASHTAG_RE, _VENMO_RE, _URL_RE])


@cache
def _suffixes() -> PublicSuffixList:
    """The public suffix list bundled with publicsuffixlist (ICANN section, never fetched);
    hosts under a top-level domain it does not know have no registered domain."""
    return PublicSuffixList(only_icann=True, accept_unknown=False)


@lru_cache(maxsize=4096)
def registered_domain(host: str) -> tuple[str, str]:
    """``(registered domain, public suffix)`` of a host name; empty strings if it has none."""
    suffixes = _suffixes()
    return suffixes.privatesuffix(host) or "", suffixes.publicsuffix(host) or ""


@cache
def _bare_suffixes() -> frozenset[str]:
    return frozenset(data_file("social.toml")["bare"]["suffixes"])


def find_urls(text: str | None) -> Iterator[str]:
    """URLs in free text, as written (bare domains such as ``tiktok.com/@coach`` too), and
    payment handles as their profile URLs (``$cashtag``, ``Venmo @handle``)."""
    if not text:
        return
    cashtag, venmo, url = _SHAPES.search(text)
    if cashtag:
        yield from (f"https://cash.app/${m.group(1)}" for m in _CASHTAG_RE.finditer(text))
    if venmo:
        yield from (f"https://venmo.com/u/{m.group(1)}" for m in _VENMO_RE.finditer(text))
    if not url:
        return
    for match in _URL_RE.finditer(text):
        url = match.group(1).rstrip(_TRAILING)
        if "://" in url or url.lower().startswith("www."):
            yield url
            continue
        host, _, path = url.partition("/")
        registered, suffix = registered_domain(host.lower().split(":")[0])
        if registered and (path or suffix.rsplit(".", 1)[-1] in _bare_suffixes()):
            yield url


def host_and_path(url: str) -> tuple[str, str]:
    """Lower-cased host and the path of a URL written with or without a scheme."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return (parts.hostname or "").lower().rstrip("."), parts.path or "/"


@dataclass(frozen=True)
class LinkVerdict:
    """What a link points to."""

    url: str
    kind: LinkKind
    domain: str  # registered domain, or the host when it has none


@dataclass(frozen=True)
class LinkPolicy:
    """The district's own and allowed domains, and which sites are personal social media."""

    district_domains: tuple[str, ...]
    allowed_domains: tuple[str, ...] = ()
    extra_social: tuple[str, ...] = ()
    own_url: str | None = None

    def classify(self, url: str) -> LinkVerdict:
        """Classify one URL."""
        host, path = host_and_path(url)
        registered = registered_domain(host)[0] or host
        if _under(host, self.district_domains):
            return LinkVerdict(url, "district", registered)
        if _under(host, self.allowed_domains) or self._is_own(host, path):
            return LinkVerdict(url, "allowed", registered)
        if registered in self.extra_social or _social_path(registered, path):
            return LinkVerdict(url, "personal-social", registered)
        return LinkVerdict(url, "non-district", registered)

    def _is_own(self, host: str, path: str) -> bool:
        if not self.own_url:
            return False
        own_host, own_path = host_and_path(self.own_url)
        return host == own_host and path.rstrip("/").startswith(own_path.rstrip("/"))


def _under(host: str, domains: tuple[str, ...]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    return host in domains or host.endswith(_dotted(domains))


@lru_cache(maxsize=64)
def _dotted(domains: tuple[str, ...]) -> tuple[str, ...]:
    """``domains`` with a leading dot, for one ``str.endswith`` test of them all."""
    return tuple("." + d for d in domains)


@cache
def _social_sites() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {
        s["domain"]: (tuple(s.get("paths", ())), tuple(s.get("except", ())))
        for s in data_file("social.toml")["site"]
    }


def _social_path(registered: str, path: str) -> bool:
    sites = _social_sites()
    if registered not in sites:
        return False
    prefixes, excluded = sites[registered]
    path = path.lower()
    if any(path.startswith(p) for p in excluded):
        return False
    return not prefixes or any(path.startswith(p) for p in prefixes)
