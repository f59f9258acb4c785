"""Stages -> waves (rollout/waves.py): the canary first, stages growing, the last wave
taking the rest, bad stages refused naming the one."""

from __future__ import annotations

import pytest

from sdwan.errors import InvalidInput
from sdwan.rollout.waves import parse_stages, reached, split

ROUTERS = [f"r{i}" for i in range(1, 11)]


def test_canary_then_a_tenth_then_the_rest() -> None:
    assert split(ROUTERS, ["1", "10%", "50%", "100%"]) == [
        ["r1"],
        ["r2", "r3", "r4", "r5"],
        ["r6", "r7", "r8", "r9", "r10"],
    ]


def test_a_share_rounds_up_and_a_stage_adding_nobody_makes_no_wave() -> None:
    assert reached("10%", 3) == 1 and reached("34%", 3) == 2 and reached("100%", 3) == 3
    assert split(["a", "b", "c"], ["1", "10%", "100%"]) == [["a"], ["b", "c"]]


def test_one_more_wave_takes_what_the_stages_leave() -> None:
    assert split(ROUTERS[:4], ["1"]) == [["r1"], ["r2", "r3", "r4"]]
    assert split(ROUTERS[:4], ["1", "2"]) == [["r1"], ["r2"], ["r3", "r4"]]
    assert split(ROUTERS[:4], ["100%"]) == [ROUTERS[:4]]
    assert split([], ["1", "100%"]) == []


@pytest.mark.parametrize("bad", ["0", "0%", "101%", "-1", "ten", "1.5", "", "10 %x"])
def test_bad_stages_are_refused_naming_the_one(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_stages(["1", bad])
    assert caught.value.field == "stages[1]"


def test_no_stages_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_stages([])
    assert parse_stages([" 1", "10%", "100%"]) == ["1", "10%", "100%"]
