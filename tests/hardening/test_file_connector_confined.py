"""Defect 9 of the hardening issue: the file connector reads only inside its folder, quotes
no content of other files, and one pathological file fails only the page it belongs to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.file import FileConnector, FileSettings

TOKEN = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"
GOOD = {"platform": "discord", "external_id": "123"}


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.json").write_text(json.dumps({"token": TOKEN}))
    (folder / "123.json").write_text(json.dumps(GOOD))
    return folder


async def fetch(folder: Path, external_id: str):
    conn = FileConnector("files", FileSettings.model_validate({"path": str(folder)}))
    return await conn.fetch_page(PageRef("p", external_id))


@pytest.mark.parametrize(
    "external_id",
    ["../outside/victim", "/{outside}/victim", "link", "deep/../../outside/victim", "C:victim"],
)
async def test_nothing_outside_the_folder_is_read(layout: Path, external_id: str) -> None:
    outside = layout.parent / "outside"
    (layout / "link.json").symlink_to(outside / "victim.json")
    external_id = external_id.format(outside=str(outside).lstrip("/"))
    with pytest.raises(ConnectorError) as info:
        await fetch(layout, external_id)
    assert TOKEN[:12] not in str(info.value)
    assert "no snapshot file" in str(info.value)


async def test_a_deeply_nested_file_fails_only_its_own_page(layout: Path) -> None:
    (layout / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    assert (await fetch(layout, "123")).external_id == "123"  # the index skips it
    with pytest.raises(ConnectorError, match=r"deep.json: nested too deeply"):
        await fetch(layout, "deep")


async def test_a_link_to_a_file_inside_the_folder_is_read(layout: Path) -> None:
    (layout / "alias.json").symlink_to(layout / "123.json")
    with pytest.raises(ConnectorError, match="external_id is '123', expected 'alias'"):
        await fetch(layout, "alias")  # read (its own id is another page's), not refused


async def test_a_folder_reached_through_a_link_reads_its_files_and_no_others(
    layout: Path,
) -> None:
    linked = layout.parent / "exports-link"
    linked.symlink_to(layout, target_is_directory=True)
    assert (await fetch(linked, "123")).external_id == "123"
    (layout / "link.json").symlink_to(layout.parent / "outside" / "victim.json")
    with pytest.raises(ConnectorError, match="no snapshot file"):
        await fetch(linked, "link")
