"""Cron strings keep cron's weekdays (0 and 7 are Sunday, 1-5 Monday to Friday): APScheduler
3's own ``from_crontab`` counts from Monday and would run "1-5" Tuesday to Saturday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auditor.config import ScheduleConfig
from auditor.crontab import trigger, weekdays


def fire_days(expression: str, count: int = 6) -> list[str]:
    """The weekday names of the next ``count`` firings after Saturday 2026-12-05."""
    when = trigger(expression, "America/New_York")
    at = datetime(2026, 12, 5, tzinfo=UTC)
    days = []
    for _ in range(count):
        fire = when.get_next_fire_time(None, at)
        assert fire is not None
        days.append(fire.strftime("%a"))
        at = fire + timedelta(minutes=1)
    return days


def test_weekdays_one_to_five_are_monday_to_friday() -> None:
    assert fire_days("0 6 * * 1-5") == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("5-7", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("1/2", "mon,wed,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("sat,0", "sun,sat"),
    ],
)
def test_weekday_fields_read_as_cron_reads_them(field: str, names: str) -> None:
    assert weekdays(field) == names


def test_sunday_as_zero_and_seven_fire_on_sunday() -> None:
    assert fire_days("30 7 * * 0", 2) == ["Sun", "Sun"]
    assert fire_days("30 7 * * 7", 2) == ["Sun", "Sun"]


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 6 * * 8", "'8' is not a weekday"),
        ("0 6 * * 5-2", "runs backwards"),
        ("0 6 * *", "5 fields"),
    ],
)
def test_bad_schedules_are_config_errors_naming_the_part(expression: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        ScheduleConfig(digest=expression)
