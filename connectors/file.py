"""The ``file`` connector: reads page snapshots exported as JSON files from a folder.

Used for the bundled sample district, for platforms whose data arrives as admin
exports, and by other tools that already produce ``page-snapshot/1`` files. A page's
file is ``<external_id>.json`` or, failing that, any ``*.json`` in the folder whose
``external_id`` field matches.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from auditor.connectors.base import (
    Connector,
    ConnectorError,
    ConnectorSettings,
    PageRef,
    SyncedFetch,
    existing_folder,
)
from auditor.snapshot import PageSnapshot
from auditor.validation import describe_validation_error

_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep) if sep)


class FileSettings(ConnectorSettings):
    """Settings of the ``file`` connector."""

    path: Path = Field(description="Folder holding one page-snapshot JSON file per page.")

    @field_validator("path")
    @classmethod
    def _existing_folder(cls, value: Path, info: ValidationInfo) -> Path:
        return existing_folder(value, info)


class FileConnector(Connector):
    """Reads ``page-snapshot/1`` JSON files from a folder."""

    type = "file"
    summary = "Page snapshots exported as JSON files in a folder"
    Settings = FileSettings
    settings: FileSettings

    def __init__(self, name: str, settings: FileSettings, base_dir: Path | None = None):
        super().__init__(name, settings, base_dir)
        self._index: dict[str, Path] | None = None
        self._root = self.settings.path.resolve()  # once: each page's file is checked in it

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        path, raw = await asyncio.to_thread(self._read, ref.external_id)
        return parse_snapshot_file(path, raw, ref.external_id)

    async def fetch_page_seen(self, ref: PageRef, seen: str | None) -> SyncedFetch:
        """The page's file, its digest the hash of its bytes: a file whose digest is
        ``seen`` is not parsed (its snapshot would be the one evaluated before). A
        subclass that fetches pages its own way is fetched that way (no digest)."""
        if type(self).fetch_page is not FileConnector.fetch_page:
            return await super().fetch_page_seen(ref, seen)
        async with self._deadline():
            path, raw, digest = await asyncio.to_thread(self._read_hashed, ref.external_id)
        if digest == seen:
            return SyncedFetch(None, None, True, content=digest)
        return SyncedFetch(
            parse_snapshot_file(path, raw, ref.external_id), None, True, content=digest
        )

    def _read(self, external_id: str) -> tuple[Path, bytes]:
        """The page's file and its bytes: one trip to a worker thread."""
        path = self._locate(external_id)
        return path, path.read_bytes()

    def _read_hashed(self, external_id: str) -> tuple[Path, bytes, str]:
        """:meth:`_read`, and the digest of the bytes."""
        path, raw = self._read(external_id)
        return path, raw, "file:" + hashlib.sha256(raw).hexdigest()

    def _locate(self, external_id: str) -> Path:
        direct = inside(self._root, f"{external_id}.json")
        if direct is not None and direct.is_file():
            return direct
        if self._index is None:
            self._index = _index_folder(self._root)
        if external_id in self._index:
            return self._index[external_id]
        raise ConnectorError(
            f"no snapshot file for external_id {external_id!r} in {self.settings.path} "
            f"(looked for {external_id}.json and at the external_id of every *.json)"
        )


def inside(folder: Path, name: str) -> Path | None:
    """The real path of ``folder/name`` (``folder``: a real path, resolved), or None where
    it leads out of ``folder`` (a ``..``, an absolute name, or a symbolic link to
    elsewhere): no file outside the export folder is ever read. A plain file name that is
    not a link is its own real path there; any other is resolved (a system call per
    part of the path: most of reading an unchanged page's file)."""
    if "\0" in name:
        return None
    path = folder / name
    plain = name not in ("", ".", "..") and not any(s in name for s in _SEPARATORS)
    if plain and path.parent == folder and not path.is_symlink():  # ("C:x" leaves it)
        return path
    path = path.resolve()
    return path if path.is_relative_to(folder) else None


def parse_snapshot_file(path: Path, raw: bytes, external_id: str | None = None) -> PageSnapshot:
    """Parse one snapshot file; errors name the file and the offending field."""
    try:
        data: Any = json.loads(raw)
    except UnicodeDecodeError:
        raise ConnectorError(f"{path.name}: not UTF-8 text") from None
    except RecursionError:
        raise ConnectorError(f"{path.name}: nested too deeply to be a page snapshot") from None
    except json.JSONDecodeError as exc:
        raise ConnectorError(
            f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    try:
        snapshot = PageSnapshot.model_validate(data)
    except ValidationError as exc:
        raise ConnectorError(
            f"{path.name}: not a valid page snapshot: {describe_validation_error(exc)}"
        ) from None
    if external_id is not None and snapshot.external_id != external_id:
        raise ConnectorError(
            f"{path.name}: external_id is {snapshot.external_id!r}, expected {external_id!r}"
        )
    return snapshot


def _index_folder(folder: Path) -> dict[str, Path]:
    """Map external_id to file for every readable snapshot-like JSON file in ``folder``."""
    index: dict[str, Path] = {}
    for found in sorted(folder.glob("*.json")):
        path = inside(folder, found.name)
        if path is None:
            continue  # a link out of the folder is never read
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            continue  # reported when (and if) a page actually maps to this file
        if isinstance(data, dict) and isinstance(data.get("external_id"), str):
            index.setdefault(data["external_id"], path)
    return index
