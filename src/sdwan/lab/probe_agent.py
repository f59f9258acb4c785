"""`sdwan probe-agent` as a process in a lab namespace (the lab, the tests, the
benchmarks). Started with ``ip netns exec`` (the PID is the agent's own) and stopped
by PID (SIGTERM: the agent removes its rules and routes; SIGKILL after a deadline).
Its control socket is reached with the async ``ProbeClient`` (``client()``), or from
plain code with ``config``, ``put_config`` and ``quality``, which run one call each."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sdwan.lab.netns import Namespace
from sdwan.lab.processes import stop_pid
from sdwan.polling import wait_for
from sdwan.probe.client import ProbeClient, ProbeClientError

__all__ = ["ProbeAgentProcess", "probe_agent_argv"]


def probe_agent_argv(
    control: str, *, fib: str | None = None, extra: Sequence[str] = ()
) -> list[str]:
    """The command line of an agent with its control socket at ``control``."""
    return [
        sys.executable,
        "-m",
        "sdwan",
        "probe-agent",
        "--control",
        control,
        *(["--fib", fib] if fib else []),
        *extra,
    ]


class ProbeAgentProcess:
    def __init__(
        self,
        ns: Namespace,
        control: Path,
        log: Path,
        *,
        fib: str | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        self.ns = ns
        self.control = control
        self.log = log
        self.fib = fib
        self.extra = list(extra)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"unix://{self.control}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("the probe agent was not started")
        return self.proc.pid

    def start(self, *, timeout: float = 20.0) -> ProbeAgentProcess:
        """Start the agent and wait until its control socket answers."""
        with self.log.open("ab") as log:
            self.proc = self.ns.exec(
                probe_agent_argv(self.address, fib=self.fib, extra=self.extra),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._answers, timeout=timeout, what=f"probe agent at {self.control}")
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"probe agent exited ({self.proc.returncode}): see {self.log}")
        try:
            self.config()
        except ProbeClientError:
            return False
        return True

    def client(self, *, timeout: float = 5.0) -> ProbeClient:
        return ProbeClient(self.address, timeout=timeout)

    def config(self) -> dict[str, Any]:
        return asyncio.run(self.client().config())

    def put_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return asyncio.run(self.client().put_config(config))

    def quality(self) -> dict[str, Any]:
        return asyncio.run(self.client().quality())

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_pid(self.proc.pid)
        self.proc.wait(timeout=5)
        self.proc = None
