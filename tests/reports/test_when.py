"""Dates and times for people (``when``, ``day``): each distinct time is formatted once,
and never mistaken for another that compares equal to it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from auditor.reports.environment import day, when

NEW_YORK = ZoneInfo("America/New_York")


def test_the_repeated_hour_of_a_clock_set_back_is_told_apart() -> None:
    first = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)  # 01:30 EDT
    second = first.replace(fold=1)  # 01:30 EST, an hour later
    assert first == second and hash(first) == hash(second)  # what a plain cache would key
    assert when(first, "UTC") == "2026-11-01 05:30 UTC"
    assert when(second, "UTC") == "2026-11-01 06:30 UTC"
    assert when(second, "America/New_York") == "2026-11-01 01:30 EST"
    assert day(first, "America/Regina") == "2026-10-31"
    assert day(second, "America/Regina") == "2026-11-01"


@pytest.fixture
def local_zone() -> Iterator[None]:
    """Restore the process's local time zone after the test changes it."""
    before = os.environ.get("TZ")
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is POSIX only")
def test_a_naive_time_follows_the_local_zone_it_is_read_in(local_zone: None) -> None:
    naive = datetime(2026, 9, 1, 23, 30)
    os.environ["TZ"] = "UTC"
    time.tzset()
    assert when(naive, "UTC") == "2026-09-01 23:30 UTC"
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    assert when(naive, "UTC") == "2026-09-01 14:30 UTC"


def test_the_same_instant_reads_the_same_in_any_zone_it_comes_in() -> None:
    utc = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert when(utc.astimezone(NEW_YORK), "Europe/Paris") == when(utc, "Europe/Paris")
    assert when(utc, "Europe/Paris") == "2026-12-04 16:00 CET"
    assert when(None) == "—"
