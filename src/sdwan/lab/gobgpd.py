"""Run real ``gobgpd`` daemons for integration tests.

Each :class:`GobgpdProcess` serves its gRPC API on ``unix://<workdir>/<name>.sock``
(so several daemons never compete for TCP port 50051, and the socket is reachable
from the root namespace even when the daemon runs inside a network namespace) and
logs to ``<workdir>/<name>.log``. ``--pprof-disable`` is always passed: otherwise
every gobgpd binds the same pprof port and the second one fails.

PIDs: with a namespace the daemon is started as ``ip netns exec NS gobgpd ...``.
``ip`` enters the namespace and then *execs* gobgpd, so the PID returned by
``Popen`` is gobgpd's own PID (verified by ``tests/integration``: ``/proc/<pid>/exe``
is the gobgpd binary). Signals are therefore sent straight to gobgpd, by PID.

Sockets: gobgpd removes its socket on SIGTERM but a SIGKILLed daemon leaves it
behind, and a new gobgpd then dies with "bind: address already in use". ``start()``
therefore removes a stale socket file before launching (only its own path).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.gobgp._pb import gobgp_pb2, gobgp_pb2_grpc
from sdwan.gobgp.channel import sync_channel
from sdwan.lab.netns import Namespace
from sdwan.lab.processes import end_child
from sdwan.polling import wait_for

__all__ = [
    "GobgpdError",
    "GobgpdFactory",
    "GobgpdProcess",
    "find_gobgpd",
]


_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
# sun_path is 108 bytes including the terminating NUL.
_UNIX_PATH_MAX = 107


class GobgpdError(RuntimeError):
    """gobgpd did not start, did not become ready, or could not be stopped."""


def find_gobgpd() -> str | None:
    """Absolute path of the gobgpd binary, or None if it is not installed."""
    found = shutil.which("gobgpd")
    if found:
        return found
    return "/usr/bin/gobgpd" if os.access("/usr/bin/gobgpd", os.X_OK) else None


class GobgpdProcess:
    """One gobgpd daemon, optionally inside a network namespace.

    ``start()`` launches it and waits until GetBgp answers; ``stop()`` SIGTERMs it
    (SIGKILL after a deadline) and removes the socket; ``kill()`` SIGKILLs it like a
    crash would; ``restart()`` starts it again, empty (gobgpd keeps no state).
    ``close()`` (also ``__exit__``) stops it and closes channels from ``grpc_stub()``.
    """

    def __init__(
        self,
        name: str,
        workdir: str | os.PathLike[str],
        netns: Namespace | str | None = None,
        *,
        binary: str | None = None,
        log_level: str = "info",
        extra_args: Sequence[str] = (),
        also_listen: Sequence[str] = (),
        tls: tuple[Path, Path, str] | None = None,
    ) -> None:
        """``tls``: (certificate file, key file, CA PEM that signed it): gobgpd serves its
        API over TLS (--tls) and this object's own channels trust that CA."""
        if not _NAME_RE.match(name):
            raise ValueError(f"invalid gobgpd name {name!r}")
        self.name = name
        self.workdir = Path(workdir).absolute()
        self.netns: Namespace | None = Namespace(netns) if isinstance(netns, str) else netns
        self.binary = binary or find_gobgpd() or "gobgpd"
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.also_listen = list(also_listen)  # more API addresses of the same daemon
        self.tls = tls
        self.socket_path = self.workdir / f"{name}.sock"
        self.log_path = self.workdir / f"{name}.log"
        if len(os.fsencode(self.socket_path)) > _UNIX_PATH_MAX:
            raise ValueError(
                f"unix socket path too long ({_UNIX_PATH_MAX} bytes max): {self.socket_path}"
            )
        self._proc: subprocess.Popen[bytes] | None = None
        self._channels: list[grpc.Channel] = []

    def __repr__(self) -> str:
        where = f" in {self.netns.name}" if self.netns else ""
        return f"GobgpdProcess({self.name!r}{where}, pid={self.pid})"

    # -- state ---------------------------------------------------------------

    @property
    def api_address(self) -> str:
        """gRPC target, ``unix:///abs/path/<name>.sock``."""
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        """PID of the running daemon (gobgpd itself, also in a netns), else None."""
        return self._proc.pid if self.running and self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def argv(self) -> list[str]:
        cmd = [
            self.binary,
            f"--api-hosts={','.join([self.api_address, *self.also_listen])}",
            "--pprof-disable",
            "-p",
            "-l",
            self.log_level,
            *self.extra_args,
        ]
        if self.tls is not None:
            cert, key, _ca = self.tls
            cmd += ["--tls", f"--tls-cert-file={cert}", f"--tls-key-file={key}"]
        return self.netns.argv(cmd) if self.netns else cmd

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle -----------------------------------------------------------

    def start(self, timeout: float = 10.0) -> GobgpdProcess:
        """Launch gobgpd and wait until it answers GetBgp (up to ``timeout`` s)."""
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> GobgpdProcess:
        """Start the process without waiting for it (many daemons start in parallel:
        launch each, then ``wait_ready`` each)."""
        if self.running:
            raise GobgpdError(f"{self!r} is already running")
        self._reap()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_socket()
        with self.log_path.open("ab") as log:
            log.write(f"--- sdwan.lab: starting {self.argv}\n".encode())
            log.flush()
            # A new session keeps a terminal ^C away from the daemon: the test's
            # finalizers stop it in order instead.
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 10.0) -> GobgpdProcess:
        """Wait until the launched daemon answers GetBgp; stop it if it does not."""
        try:
            wait_for(self._ready, timeout=timeout, what=f"{self.name} to answer GetBgp")
        except BaseException as exc:
            self.stop()
            if isinstance(exc, TimeoutError | GobgpdError):
                raise GobgpdError(f"{self.name}: {exc}\nlog tail:\n{self.log_tail()}") from exc
            raise
        return self

    def _ready(self) -> bool:
        if self._proc is None or self._proc.poll() is not None:
            code = None if self._proc is None else self._proc.returncode
            raise GobgpdError(f"gobgpd exited during startup (exit status {code})")
        if not _is_socket(self.socket_path):
            return False
        # A fresh channel per attempt: a channel that failed once backs off for ~1 s.
        with self._channel() as channel:
            stub = gobgp_pb2_grpc.GobgpApiStub(channel)
            try:
                stub.GetBgp(gobgp_pb2.GetBgpRequest(), timeout=1.0)
            except grpc.RpcError:
                return False
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if still alive after ``timeout`` s; wait; remove socket."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                end_child(proc, timeout)
            except subprocess.TimeoutExpired as exc:
                raise GobgpdError(f"{self.name} (pid {proc.pid}) survived SIGKILL") from exc
        self._reap()
        self.socket_path.unlink(missing_ok=True)

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL (simulated crash) and reap. The stale socket file stays, as after a
        real crash; ``start()``/``restart()`` cope with it."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.kill()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise GobgpdError(f"{self.name} (pid {proc.pid}) survived SIGKILL") from exc

    def restart(self, timeout: float = 10.0) -> GobgpdProcess:
        """Stop if running, then start again: an empty gobgpd (no BGP config)."""
        self.stop()
        return self.start(timeout=timeout)

    def close(self) -> None:
        """Stop the daemon and close every channel handed out by ``grpc_stub()``."""
        try:
            self.stop()
        finally:
            while self._channels:
                self._channels.pop().close()

    def _reap(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None

    def _remove_stale_socket(self) -> None:
        if self.socket_path.exists() or self.socket_path.is_symlink():
            if not _is_socket(self.socket_path):
                raise GobgpdError(f"{self.socket_path} exists and is not a socket")
            self.socket_path.unlink()

    # -- gRPC ----------------------------------------------------------------

    @property
    def endpoint(self) -> GobgpEndpoint:
        """How a client reaches this daemon's API (with TLS: trusting its CA; the name
        on its certificate is "localhost")."""
        if self.tls is None:
            return GobgpEndpoint(self.api_address)
        return GobgpEndpoint(self.api_address, True, self.tls[2], "localhost")

    def _channel(self) -> grpc.Channel:
        return sync_channel(self.endpoint)

    def grpc_stub(self) -> Any:
        """A ``GobgpApiStub`` on a fresh channel to this daemon (closed by ``close()``)."""
        channel = self._channel()
        self._channels.append(channel)
        return gobgp_pb2_grpc.GobgpApiStub(channel)

    # -- context manager -----------------------------------------------------

    def __enter__(self) -> GobgpdProcess:
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.lstat().st_mode)
    except FileNotFoundError:
        return False


class GobgpdFactory:
    """Makes :class:`GobgpdProcess` objects named ``<prefix>-<name>`` in one work
    directory and remembers them so :meth:`close_all` can stop every one."""

    def __init__(self, workdir: str | os.PathLike[str], prefix: str = "") -> None:
        self.workdir = Path(workdir)
        self.prefix = prefix
        self.processes: list[GobgpdProcess] = []

    def __call__(
        self,
        name: str,
        netns: Namespace | str | None = None,
        *,
        start: bool = True,
        timeout: float = 10.0,
        **options: Any,
    ) -> GobgpdProcess:
        """``options``: more GobgpdProcess arguments (extra_args, also_listen...)."""
        full = f"{self.prefix}-{name}" if self.prefix else name
        proc = GobgpdProcess(full, self.workdir, netns, **options)
        # Registered before starting so a half-started daemon is still cleaned up.
        self.processes.append(proc)
        if start:
            proc.start(timeout=timeout)
        return proc

    def close_all(self) -> None:
        """Close every daemon, newest first; raises the first error after trying all."""
        errors: list[BaseException] = []
        while self.processes:
            try:
                self.processes.pop().close()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
