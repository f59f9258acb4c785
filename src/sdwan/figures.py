"""Figures printed for people, rounded to what a person reads: ``96 ms``, ``2.35 s``,
``3 min 05 s``, ``42 %``. Machine output (JSON, metrics) keeps the full value."""

from __future__ import annotations


def seconds(value: float | None) -> str:
    """A duration: milliseconds under a second, seconds under a minute, then minutes."""
    if value is None:
        return "n/a"
    if value < 0:
        return f"-{seconds(-value)}"
    if value < 1:
        ms = value * 1000
        return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"
    if value < 60:
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s"


def percent(part: float, whole: float) -> str:
    """``part`` of ``whole``: whole percents, one decimal under 10 % (never 0 % or
    100 % for a share that is not exactly that)."""
    if whole <= 0:
        return "n/a"
    share = 100 * part / whole
    if share == 0 or share == 100:
        return f"{share:.0f} %"
    if share < 10:
        return f"{max(share, 0.1):.1f} %"
    return f"{min(share, 99):.0f} %"
