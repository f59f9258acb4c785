"""Figures for people are rounded to what they read."""

from __future__ import annotations

import pytest

from sdwan import figures


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.09600114822387695, "96 ms"),
        (0.0042, "4.2 ms"),
        (0.0, "0.0 ms"),
        (2.3456, "2.35 s"),
        (42.04, "42.0 s"),
        (185.4, "3 min 05 s"),
        (None, "n/a"),
        (-0.5, "-500 ms"),
    ],
)
def test_seconds(value: float | None, shown: str) -> None:
    assert figures.seconds(value) == shown


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(0, 10, "0 %"), (10, 10, "100 %"), (1, 3, "33 %"), (1, 2000, "0.1 %"), (999, 1000, "99 %")],
)
def test_percent(part: float, whole: float, shown: str) -> None:
    assert figures.percent(part, whole) == shown
    assert figures.percent(1, 0) == "n/a"
