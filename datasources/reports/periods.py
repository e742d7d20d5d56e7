"""Calendar periods in UTC (days, weeks from Monday, months from the 1st) and the period lists of a report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Interval = Literal["DAY", "WEEK", "MONTH"]
INTERVALS: tuple[Interval, ...] = ("DAY", "WEEK", "MONTH")


def as_utc(instant: datetime) -> datetime:
    """An aware instant in UTC; a naive one is taken as UTC already (SQLite hands those back)."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def period_day(day: date, interval: Interval) -> date:
    """The first day of the period that holds `day`."""
    if interval == "DAY":
        return day
    if interval == "WEEK":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period_day(start: date, interval: Interval) -> date:
    """The first day of the period after the one starting on `start`."""
    if interval == "DAY":
        return start + timedelta(days=1)
    if interval == "WEEK":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def period_start(instant: datetime, interval: Interval) -> datetime:
    """The first instant (UTC) of the calendar period the instant falls in."""
    return start_of(period_day(as_utc(instant).date(), interval))


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def period_days(start: datetime, end: datetime, interval: Interval, limit: int) -> list[date] | None:
    """The first days of every period that holds an instant of [start, end), in order; None past `limit`.

    A `start` inside a period makes that period the first (its start lies before `start`); the
    orders that count stay those from `start` on. Likewise the last period is the one holding the
    last instant before `end`.
    """
    first = period_day(as_utc(start).date(), interval)
    last_instant = as_utc(end) - timedelta(microseconds=1)
    last = period_day(last_instant.date(), interval)
    days: list[date] = []
    current = first
    while current <= last:
        if len(days) == limit:
            return None
        days.append(current)
        current = next_period_day(current, interval)
    return days
