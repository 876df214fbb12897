"""Cron strings as people write them, for APScheduler 3: its ``from_crontab`` numbers the
weekdays from Monday (0) where cron numbers them from Sunday (0 or 7), so "1-5" would run
Tuesday to Saturday. The weekday field is rewritten into day names before it is parsed."""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron's numbering: 0 (and 7) is Sunday


def weekdays(field: str) -> str:
    """A cron weekday field as APScheduler day names: ``"1-5"`` -> ``"mon,tue,wed,thu,fri"``,
    ``"*"`` unchanged; ValueError naming the part that is not a weekday."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = _number(step_text, part, 1, 7) if step_text else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            start, end = span.split("-", 1)
            first, last = _day(start, part), _day(end, part)
            if last < first and last == 0:  # "5-7"/"fri-sun": 7 is Sunday, the end of the week
                last = 7
            if last < first:
                raise ValueError(f"weekday range {part!r} runs backwards")
        else:
            first = last = _day(span, part)
            if step_text:
                last = 6
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(DAYS[d] for d in sorted(days))


def trigger(expression: str, timezone: tzinfo | str) -> CronTrigger:
    """A trigger for a five-field cron string, weekdays read as cron reads them."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"a cron string has 5 fields (minute hour day month weekday), not {len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekdays(weekday),
        timezone=timezone,
    )


def _day(text: str, part: str) -> int:
    """One weekday, by cron number (0-7) or by its three-letter name."""
    if text in DAYS:
        return DAYS.index(text)
    return _number(text, part, 0, 7)


def _number(text: str, part: str, low: int, high: int) -> int:
    """An integer from ``low`` to ``high``; ValueError naming the field's part otherwise."""
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{part!r} is not a weekday (0-7 or sun-sat)")
    return int(text)
