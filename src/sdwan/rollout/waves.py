"""Stages -> waves: which routers each wave of a rollout changes (pure).

A stage is the number of routers changed once its wave is done: ``"1"`` (one
router), ``"10%"`` (a tenth of them, rounded up, at least one). Stages grow; when the
last stage leaves routers out, one more wave takes them, so ``["1"]`` is the canary
and then everything else."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from sdwan.errors import InvalidInput

MAX_STAGES = 20
_STAGE = re.compile(r"^(?:(\d{1,6})|(\d{1,3}(?:\.\d+)?)%)$")


def parse_stages(stages: Sequence[str], *, field: str = "stages") -> list[str]:
    """The stages, checked: each a count ("1") or a share ("10%"), at most 100 %."""
    if not stages:
        raise InvalidInput(f'{field}: at least one stage, e.g. ["1", "100%"]', field=field)
    if len(stages) > MAX_STAGES:
        raise InvalidInput(f"{field}: at most {MAX_STAGES} stages", field=field)
    out = []
    for index, stage in enumerate(stages):
        text = str(stage).strip()
        match = _STAGE.match(text)
        bad = match is None
        if match is not None and match.group(1) is not None:
            bad = int(match.group(1)) < 1
        elif match is not None:
            bad = not 0 < float(match.group(2)) <= 100
        if bad:
            raise InvalidInput(
                f"{field}[{index}]: {stage!r} is neither a count of routers (1, 5) nor a "
                "share of them (10%, 100%)",
                field=f"{field}[{index}]",
            )
        out.append(text)
    return out


def reached(stage: str, total: int) -> int:
    """How many routers are changed once ``stage``'s wave is done."""
    if stage.endswith("%"):
        return min(total, max(1, math.ceil(total * float(stage[:-1]) / 100 - 1e-9)))
    return min(total, int(stage))


def split(routers: Sequence[str], stages: Sequence[str]) -> list[list[str]]:
    """``routers`` (in the order given: the first is the canary) in waves; a stage
    that adds no router makes no wave; a last wave takes whatever the stages left."""
    waves: list[list[str]] = []
    done = 0
    for stage in stages:
        upto = reached(stage, len(routers))
        if upto > done:
            waves.append(list(routers[done:upto]))
            done = upto
    if done < len(routers):
        waves.append(list(routers[done:]))
    return waves
