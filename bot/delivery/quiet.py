"""Quiet hours: when pushes that are not urgent may not go out, and when they may again."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo


def quiet_until(now: datetime, window: tuple[time, time] | None, zone: tzinfo) -> datetime | None:
    """The end of the quiet window ``now`` falls in (aware UTC), or None outside it.

    The window is wall-clock time in ``zone`` and may span midnight (22:00-07:30):
    at 23:00 it ends at 07:30 the next morning, at 06:00 the same morning.
    """
    if window is None:
        return None
    start, end = window
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return None
    day = local.date()
    if start > end and clock >= start:
        day += timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
