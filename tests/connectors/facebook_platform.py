"""The sample Facebook group for the ``facebook`` connector: a filled attestation file.

Facebook has no API for groups since April 2024, so there is nothing to mock over HTTP:
the connector reads ``<folder>/<external_id>.toml`` files that a group's admin fills in.
:func:`write_example` writes one for the sample district's DHS Cross Country group
(a teacher owner, the athletic director as moderator, students, a parent, a pending
member request, and seven posts, three of which break a content rule: a student's phone
number, a link to the coach's Instagram, and a parent advertising his business).

Used by the connector's tests and by the script that builds the sample district: point
a ``[[connectors]]`` block with :data:`SETTINGS` at the config's folder, call
``write_example(config_dir / SETTINGS["folder"])`` and fetch :data:`PAGES`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from auditor.connectors.base import PageRef

FIXTURES = Path(__file__).parent / "fixtures" / "facebook"
EXAMPLE = FIXTURES / "dhs-xc-2026.toml"

SETTINGS: dict[str, object] = {"folder": "facebook-attestations"}
"""``[[connectors]]`` settings (``type = "facebook"``); the folder is relative to the config."""

ENV: dict[str, str] = {}
"""Environment variables the connector needs: none (it reads files, no credentials)."""

PAGES: list[PageRef] = [PageRef("dhs-cross-country", "dhs-xc-2026", "DHS Cross Country")]
"""The sample district's page that the example attestation describes."""

ATTESTED_ON = "2026-11-15"
"""The example attestation's date (its posts run from 2026-10-19 to 2026-11-14)."""


def write_example(folder: Path) -> list[PageRef]:
    """Write the filled example attestation into ``folder`` (created if needed) and return
    the page(s) it describes."""
    folder.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        shutil.copyfile(EXAMPLE, folder / f"{page.external_id}.toml")
    return list(PAGES)
