"""Fixtures shared by the connector tests."""

from __future__ import annotations

import pytest

import auditor.connectors.http


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every pause the HTTP client asks for, recorded (nothing really sleeps)."""
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(auditor.connectors.http, "sleep", record)
    return asked
