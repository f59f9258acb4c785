"""Measured figures for people: loss in percent, times in milliseconds, rounded to what
a reader can use ("6.1 %", "152 ms", "0.21 ms"); "-" for what was not measured."""

from __future__ import annotations

from typing import Any

UNMEASURED = "-"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _trimmed(value: float, places: int) -> str:
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(value: Any) -> str:
    """A loss in percent: one decimal at most ("6.1 %", "0 %", "20 %")."""
    number = _number(value)
    return UNMEASURED if number is None else f"{_trimmed(number, 1)} %"


def millis(value: Any) -> str:
    """A time in milliseconds: whole from 10 ms, one decimal from 1 ms, two below."""
    number = _number(value)
    if number is None:
        return UNMEASURED
    places = 0 if number >= 10 else 1 if number >= 1 else 2
    return f"{_trimmed(number, places)} ms"


def seconds(value: Any) -> str:
    number = _number(value)
    return UNMEASURED if number is None else f"{_trimmed(number, 1)} s"
