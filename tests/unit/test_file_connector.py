"""The file connector: finding a page's file and reporting bad files clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.file import FileConnector, FileSettings

GOOD = {"format": "page-snapshot/1", "platform": "discord", "external_id": "123"}


def connector(folder: Path) -> FileConnector:
    return FileConnector("files", FileSettings.model_validate({"path": str(folder)}))


async def fetch(folder: Path, external_id: str = "123"):
    return await connector(folder).fetch_page(PageRef("p", external_id))


async def test_reads_file_named_after_external_id(tmp_path: Path) -> None:
    (tmp_path / "123.json").write_text(json.dumps(GOOD))
    snapshot = await fetch(tmp_path)
    assert snapshot.platform == "discord" and snapshot.members is None


async def test_finds_file_by_external_id_field(tmp_path: Path) -> None:
    (tmp_path / "export-2026.json").write_text(json.dumps(GOOD))
    (tmp_path / "junk.json").write_text("{not json")
    assert (await fetch(tmp_path)).external_id == "123"


async def test_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match=r"no snapshot file for external_id '123'"):
        await fetch(tmp_path)


async def test_invalid_json_names_file_and_position(tmp_path: Path) -> None:
    (tmp_path / "123.json").write_text('{"format": "page-snapshot/1",\n "platform": }')
    with pytest.raises(ConnectorError) as info:
        await fetch(tmp_path)
    assert str(info.value).startswith("123.json: not valid JSON (line 2, column")


async def test_invalid_snapshot_names_file_and_field(tmp_path: Path) -> None:
    bad = {**GOOD, "settings": {"join_policy": "whoever"}, "members": [{"role": "owner"}]}
    (tmp_path / "123.json").write_text(json.dumps(bad))
    with pytest.raises(ConnectorError) as info:
        await fetch(tmp_path)
    message = str(info.value)
    assert message.startswith("123.json: not a valid page snapshot:")
    assert "settings.join_policy" in message and "members[0].id: Field required" in message


async def test_naive_datetime_and_wrong_format_rejected(tmp_path: Path) -> None:
    (tmp_path / "123.json").write_text(json.dumps({**GOOD, "created_at": "2026-01-01T10:00:00"}))
    with pytest.raises(ConnectorError, match="created_at"):
        await fetch(tmp_path)
    (tmp_path / "123.json").write_text(json.dumps({**GOOD, "format": "page-snapshot/2"}))
    with pytest.raises(ConnectorError, match="format"):
        await fetch(tmp_path)


async def test_external_id_mismatch(tmp_path: Path) -> None:
    (tmp_path / "123.json").write_text(json.dumps({**GOOD, "external_id": "999"}))
    with pytest.raises(ConnectorError, match="external_id is '999', expected '123'"):
        await fetch(tmp_path)


def test_settings_resolve_relative_path(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    settings = FileSettings.model_validate({"path": "exports"}, context={"base_dir": tmp_path})
    assert settings.path == (tmp_path / "exports").resolve()
