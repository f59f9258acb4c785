"""Run the orchestrator itself (`sdwan serve`) as a real process, for integration
tests, benchmarks and the demo: a fresh SQLite file (or a PostgreSQL URL shared by
several replicas), a known admin token, a free port."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from sdwan.lab.processes import end_child
from sdwan.polling import wait_for

ADMIN_TOKEN = "lab-admin-token-for-tests-0123456789abcdef"  # >= 32 characters
# the lab's sockets (under /run, wherever --lab-dir puts them), the tests' (tmp)
LAB_API_ADDRESS_ALLOW = (
    f"unix:{tempfile.gettempdir()}/ unix:/run/ 127.0.0.0/8 ::1/128 198.18.0.0/15"
)
# how long a new server may take to answer: a fresh database's migrations and the
# imports take seconds on an idle machine, and 38 s were seen on two cores under a load of 15
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OrchestratorProcess:
    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
        https_ca: Path | None = None,
        database_url: str | None = None,
        replica_name: str | None = None,
        secret_key_file: Path | None = None,
    ) -> None:
        """``https_ca``: the server has SDWAN_TLS_CERT/KEY (in ``extra_env``) signed by
        this CA; the URL is https and every client here checks against it.
        ``database_url``: PostgreSQL instead of an SQLite file in ``workdir``; replicas
        of one database also share ``secret_key_file``."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.db_path = self.workdir / "sdwan.db"
        self.database = database_url or str(self.db_path)
        self.replica_name = replica_name
        self.secret_key_file = secret_key_file
        self.log_path = self.workdir / "sdwan-serve.log"
        self.https_ca = https_ca
        scheme = "https" if https_ca else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._extra_env = extra_env or {}
        self._extra_args = extra_args or []
        self._proc: subprocess.Popen[bytes] | None = None
        self.paused = False  # SIGSTOPped: it answers no request until resumed

    @property
    def env(self) -> dict[str, str]:
        """Environment for the server and for `sdwan` CLI calls against it."""
        return {
            **os.environ,
            "SDWAN_ADMIN_TOKEN": ADMIN_TOKEN,
            "SDWAN_TOKEN": ADMIN_TOKEN,
            "SDWAN_URL": self.url,
            "SDWAN_CONFIG": str(self.workdir / "cli-config.yaml"),
            **({"SDWAN_CA_FILE": str(self.https_ca)} if self.https_ca else {}),
            # the lab's and the tests' gobgpd sockets, and the lab's own addresses
            "SDWAN_API_ADDRESS_ALLOW": LAB_API_ADDRESS_ALLOW,
            **(
                {"SDWAN_SECRET_KEY_FILE": str(self.secret_key_file)} if self.secret_key_file else {}
            ),
            **self._extra_env,
        }

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The server's handle while it was started by this object."""
        return self._proc

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def start(self, timeout: float = START_TIMEOUT) -> OrchestratorProcess:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> OrchestratorProcess:
        """Start the process without waiting (replicas start side by side)."""
        argv = [
            sys.executable,
            "-m",
            "sdwan",
            "serve",
            "--db",
            self.database,
            "--port",
            str(self.port),
            *(["--replica-name", self.replica_name] if self.replica_name else []),
            *self._extra_args,
        ]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=log)
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> OrchestratorProcess:
        """Wait until it answers; one that never does is stopped (a fixture whose
        setup fails has no teardown: the process would outlive the test)."""
        try:
            wait_for(self._healthy, timeout=timeout, what=f"sdwan serve on {self.url}")
        except BaseException:
            self.stop()
            raise
        return self

    def _healthy(self) -> bool:
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError(f"sdwan serve exited; log:\n{self.log_tail()}")
        try:
            return (
                httpx.get(f"{self.url}/healthz", timeout=1, verify=self.verify).status_code == 200
            )
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGCONT)  # a paused one would not see SIGTERM
        self.paused = False
        end_child(self._proc, timeout)

    def kill(self) -> None:
        """SIGKILL, like a crash: no shutdown code runs."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)

    def pause(self) -> None:
        """SIGSTOP: the process stops where it is, timers and all (a long GC pause,
        a VM migration), and goes on where it was after ``resume``."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)
        self.paused = False

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            timeout=10,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            verify=self.verify,
        )

    @property
    def verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=str(self.https_ca)) if self.https_ca else True

    def cli(
        self, *args: str, input_text: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the `sdwan` CLI against this server (argv list, never a shell)."""
        proc = subprocess.run(
            [sys.executable, "-m", "sdwan", *args],
            env=self.env,
            capture_output=True,
            text=True,
            input=input_text,
            timeout=60,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"sdwan {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}"
            )
        return proc

    def __enter__(self) -> OrchestratorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
