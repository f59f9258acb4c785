"""Reading ``GET /v1/events`` as Server-Sent Events."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sdwan.cli.client import ApiClient


def parse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The ``data`` of each SSE message (JSON objects); comments and keep-alives skipped."""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield json.loads("\n".join(data))
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        # "id:", "event:" and ": comments" carry nothing the JSON data does not


def follow(
    client: ApiClient, params: Mapping[str, Any], last_event_id: int | None = None
) -> Iterator[dict[str, Any]]:
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    yield from parse(client.stream_lines("/v1/events", params, headers))
