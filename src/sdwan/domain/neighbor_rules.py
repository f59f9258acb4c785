"""Rules across a neighbor's fields (checked on create and on the merged result of
an update)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sdwan.domain.values import ip_version
from sdwan.errors import InvalidInput


def check_neighbor(values: Mapping[str, Any], *, where: str = "") -> None:
    hold, keepalive = values["hold_time"], values["keepalive_interval"]
    if hold != 0 and not 3 <= hold <= 65535:
        raise InvalidInput(
            f"{where}hold_time: must be 0 or 3..65535 seconds, got {hold}",
            field=f"{where}hold_time",
        )
    if hold == 0 and keepalive != 0:
        raise InvalidInput(
            f"{where}keepalive_interval: must be 0 when hold_time is 0 (no keepalives)",
            field=f"{where}keepalive_interval",
        )
    if hold and not 1 <= keepalive < hold:
        raise InvalidInput(
            f"{where}keepalive_interval: must be at least 1 and less than hold_time ({hold}), "
            f"got {keepalive}",
            field=f"{where}keepalive_interval",
        )
    local = values.get("local_address")
    if local and ip_version(local) != ip_version(values["address"]):
        raise InvalidInput(
            f"{where}local_address: {local} is not of the same family as address "
            f"{values['address']}",
            field=f"{where}local_address",
        )
