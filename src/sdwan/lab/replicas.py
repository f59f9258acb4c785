"""Several `sdwan serve` replicas on one PostgreSQL database, as real processes, for
integration tests and benchmarks: one shared secret key file, names ``s0``, ``s1``,
... and a free port each."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from cryptography.fernet import Fernet

from sdwan.lab.server_process import OrchestratorProcess
from sdwan.polling import wait_for


class ReplicaEntry(TypedDict):
    """One item of GET /v1/replicas (schemas.replicas.ReplicaPublic) as JSON."""

    name: str
    address: str
    version: str
    started_at: str | None
    heartbeat_age: float
    live: bool
    routers: int
    this: bool


class ReplicaFleet:
    def __init__(
        self,
        workdir: Path,
        database_url: str,
        *,
        count: int = 3,
        lease: float = 5.0,
        extra_env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.lease = lease
        self.key_file = self.workdir / "secret.key"
        if not self.key_file.exists():
            self.key_file.write_bytes(Fernet.generate_key())
            self.key_file.chmod(0o600)
        env = {"SDWAN_LEASE_SECONDS": f"{lease:g}", **(extra_env or {})}
        self.names = [f"s{i}" for i in range(count)]
        self.replicas = [
            OrchestratorProcess(
                self.workdir / name,
                database_url=database_url,
                replica_name=name,
                secret_key_file=self.key_file,
                extra_env=env,
                extra_args=extra_args,
            )
            for name in self.names
        ]

    def __getitem__(self, index: int) -> OrchestratorProcess:
        return self.replicas[index]

    def names_but(self, replica: OrchestratorProcess) -> set[str]:
        """The names of every replica but ``replica``."""
        return {name for name, r in zip(self.names, self.replicas, strict=True) if r is not replica}

    def by_name(self, name: str) -> OrchestratorProcess:
        for replica in self.replicas:
            if replica.replica_name == name:
                return replica
        raise KeyError(name)

    def start(self, timeout: float = 60.0) -> ReplicaFleet:
        """Launch every replica at once (they migrate one after another under the
        advisory lock), then wait until all answer and are live."""
        for replica in self.replicas:
            replica.launch()
        for replica in self.replicas:
            replica.wait_ready(timeout)
        self.wait_live(len(self.replicas))
        return self

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()

    def running(self) -> list[OrchestratorProcess]:
        """The replicas that answer requests (a paused one would hang the caller)."""
        return [r for r in self.replicas if r.pid is not None and not r.paused]

    def replica_list(self, via: OrchestratorProcess | None = None) -> list[ReplicaEntry]:
        via = via or self.running()[0]
        with via.client() as api:
            answer = api.get("/v1/replicas")
            answer.raise_for_status()
            items: list[ReplicaEntry] = answer.json()["items"]
            return items

    def wait_live(self, count: int, timeout: float = 30.0) -> list[ReplicaEntry]:
        """Until exactly ``count`` replicas are live."""

        def live() -> list[ReplicaEntry]:
            items = [r for r in self.replica_list() if r["live"]]
            return items if len(items) == count else []

        return wait_for(live, timeout=timeout, what=f"{count} live replicas")

    def owners(self, via: OrchestratorProcess | None = None) -> dict[str, str | None]:
        """router name -> the replica driving it (null while none)."""
        via = via or self.running()[0]
        with via.client() as api:
            answer = api.get("/v1/routers", params={"limit": 1000})
            answer.raise_for_status()
            return {r["name"]: r["owner"] for r in answer.json()["items"]}

    def wait_owned(
        self, names: set[str], *, within: set[str], timeout: float = 30.0
    ) -> dict[str, str]:
        """Until every router in ``names`` is driven by one of the replicas ``within``:
        router name -> its replica."""

        def settled() -> dict[str, str]:
            owned = {n: o for n, o in self.owners().items() if n in names and o is not None}
            ok = len(owned) == len(names) and all(o in within for o in owned.values())
            return owned if ok else {}

        return wait_for(settled, timeout=timeout, what=f"{sorted(names)} owned")

    def __enter__(self) -> ReplicaFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
