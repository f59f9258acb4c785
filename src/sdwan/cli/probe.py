"""`sdwan probe-agent` (a local command: no API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sdwan.cli.errors import CliError


def probe_agent(
    control: Annotated[
        str,
        typer.Option(
            "--control",
            metavar="unix:///PATH",
            help="Serve the control socket here (/config, /quality, /quality/stream).",
        ),
    ],
    fib: Annotated[
        str | None,
        typer.Option(
            "--fib",
            metavar="unix:///PATH",
            help="The FIB agent's status socket: PUT /avoid there with the dead next hops.",
        ),
    ] = None,
    reflector_port: Annotated[
        int,
        typer.Option(min=0, max=65535, help="Answer other agents' UDP probes here (0: off)."),
    ] = 862,
    summary_interval: Annotated[
        float,
        typer.Option(min=0.1, max=60.0, help="Seconds between summary lines on the stream."),
    ] = 1.0,
    up_hold: Annotated[
        float,
        typer.Option(
            min=0.0, max=600.0, help="A dead uplink is up again after answers for this long."
        ),
    ] = 2.0,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="Start with this configuration (JSON, as PUT /config).",
        ),
    ] = None,
) -> None:
    """Measure this router's uplinks (loss, latency, jitter; SLA classes) and reflect probes."""
    from sdwan.probe.agent import AgentError, main

    if not control.startswith("unix://"):
        raise CliError(f"--control must be unix:///PATH, got {control!r}")
    if fib is not None and not fib.startswith("unix://"):
        raise CliError(f"--fib must be unix:///PATH, got {fib!r}")
    try:
        main(
            control,
            fib=fib,
            reflector_port=reflector_port,
            summary_interval=summary_interval,
            up_hold=up_hold,
            config_file=config,
        )
    except AgentError as exc:
        raise CliError(str(exc)) from None
