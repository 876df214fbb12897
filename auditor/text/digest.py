"""The short digest that names a post's text: the judged-post cache's key and what a
dismissal compares to tell whether a post was edited since."""

from __future__ import annotations

import hashlib

HASH_HEX = 16  # 64 bits: collisions among one district's posts are not a concern


def text_hash(text: str) -> str:
    """The first 16 hex digits of the SHA-256 of ``text`` (UTF-8): equal texts, equal hashes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_HEX]
