"""Finds URLs in text (bare domains too) and tells district, allowed, personal-social and
other sites apart by registered domain, using the public suffix list bundled with
publicsuffixlist (no network access; it loads in a third of the time tldextract
takes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from auditor.text.phrases import data_file
from auditor.text.scan import PatternIndex, PatternSet, Scan

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
_SOCIAL = data_file("social.toml")
# Top-level domains a bare domain without a path is taken as a link under (tiktok.com).
_BARE_SUFFIXES = frozenset(_SOCIAL["bare"]["suffixes"])
# Personal social sites: domain -> (its profile paths, () for any; paths that are content).
_SOCIAL_SITES = {
    site["domain"]: (tuple(site.get("paths", ())), tuple(site.get("except", ())))
    for site in _SOCIAL["site"]
}
_HOSTS_KEPT = 4096  # hosts whose registered domain a Domains remembers (links repeat hosts)


class Domains:
    """Registered domains by the public suffix list bundled with publicsuffixlist (ICANN
    section, never fetched); hosts under a top-level domain it does not know have none."""

    def __init__(self) -> None:
        self._suffixes = PublicSuffixList(only_icann=True, accept_unknown=False)
        self.registered = lru_cache(maxsize=_HOSTS_KEPT)(self._registered)

    def _registered(self, host: str) -> tuple[str, str]:
        """``(registered domain, public suffix)`` of a host name; empty strings if it has
        none."""
        return self._suffixes.privatesuffix(host) or "", self._suffixes.publicsuffix(host) or ""


class LinkFinder:
    """Finds URLs in free text, bare domains too, and payment handles; its shapes are looked
    for through the shared RE2 scan (most posts hold none and skip the searches)."""

    def __init__(self, index: PatternIndex, domains: Domains) -> None:
        self._shapes = PatternSet(index, [_CASHTAG_RE, _VENMO_RE, _URL_RE])
        self._domains = domains

    def find(self, text: str | None, scan: Scan) -> Iterator[str]:
        """URLs in ``text``, as written (bare domains such as ``tiktok.com/@coach`` too), and
        payment handles as their profile URLs (``$cashtag``, ``Venmo @handle``); ``scan``:
        of the index the shapes are in."""
        if not text:
            return
        cashtag, venmo, url = self._shapes.search(text, scan)
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
            registered, suffix = self._domains.registered(host.lower().split(":")[0])
            if registered and (path or suffix.rsplit(".", 1)[-1] in _BARE_SUFFIXES):
                yield url


def host_and_path(url: str) -> tuple[str, str]:
    """Lower-cased host and the path of a URL written with or without a scheme; a link too
    malformed to parse (``http://[``) has no host."""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        host = parts.hostname or ""
    except ValueError:
        return "", "/"
    return host.lower().rstrip("."), parts.path or "/"


@dataclass(frozen=True)
class LinkVerdict:
    """What a link points to."""

    url: str
    kind: LinkKind
    domain: str  # registered domain, or the host when it has none


@dataclass(frozen=True)
class LinkPolicy:
    """The district's own and allowed domains, and which sites are personal social media
    (``domains`` tells a host's registered domain)."""

    domains: Domains
    district_domains: tuple[str, ...]
    allowed_domains: tuple[str, ...] = ()
    extra_social: tuple[str, ...] = ()
    own_url: str | None = None

    def classify(self, url: str) -> LinkVerdict:
        """Classify one URL."""
        host, path = host_and_path(url)
        registered = self.domains.registered(host)[0] or host
        if _under(host, self.district_domains):
            return LinkVerdict(url, "district", registered)
        if _under(host, self.allowed_domains) or self._is_own(host, path):
            return LinkVerdict(url, "allowed", registered)
        if registered in self.extra_social or _social_path(registered, path):
            return LinkVerdict(url, "personal-social", registered)
        return LinkVerdict(url, "non-district", registered)

    def _is_own(self, host: str, path: str) -> bool:
        """Whether a link points into the page itself."""
        if not self.own_url:
            return False
        own_host, own_path = host_and_path(self.own_url)
        return host == own_host and path.rstrip("/").startswith(own_path.rstrip("/"))


def _under(host: str, domains: tuple[str, ...]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    return host in domains or host.endswith(tuple("." + d for d in domains))


def _social_path(registered: str, path: str) -> bool:
    """Whether a link points to a personal social media profile (not, say, an event)."""
    if registered not in _SOCIAL_SITES:
        return False
    prefixes, excluded = _SOCIAL_SITES[registered]
    path = path.lower()
    if any(path.startswith(p) for p in excluded):
        return False
    return not prefixes or any(path.startswith(p) for p in prefixes)
