"""A real Keystone (Debian's python3-keystone on /usr/bin/python3) for the tests:
SQLite database, fernet tokens, keys in a temp dir, bootstrapped with an admin, served
by keystone-wsgi-public on 127.0.0.1 and stopped by PID (DESIGN.md section 6); its
test users, and the settings of an sdwan API that uses it."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sdwan.auth.keystone import KeystoneConfig
from sdwan.config import Settings
from sdwan.lab import wait_for
from sdwan.store.db import sqlite_url

KEYSTONE_MANAGE = "/usr/bin/keystone-manage"
KEYSTONE_WSGI = "/usr/bin/keystone-wsgi-public"
ADMIN_PASSWORD = "keystone-admin-pw"
START_DEADLINE = 60.0
PASSWORD = "keystone-user-pw"
USERS = {  # name -> (project, role)
    "ks-blue-member": ("blue", "member"),
    "ks-blue-reader": ("blue", "reader"),
    "ks-red-member": ("red", "member"),
}
CACHE_TTL = 3.0  # the five requests of the cache test fit in it on a loaded machine


def missing() -> str | None:
    for path in (KEYSTONE_MANAGE, KEYSTONE_WSGI):
        if not os.access(path, os.X_OK):
            return f"{path} not found: run scripts/setup (installs python3-keystone)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Keystone:
    workdir: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.workdir / "keystone.conf"

    def _manage(self, *args: str) -> None:
        subprocess.run(
            [KEYSTONE_MANAGE, "--config-file", str(self.config), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for sub in ("fernet-keys", "credential-keys"):
            (self.workdir / sub).mkdir(exist_ok=True)
        self.config.write_text(
            "[DEFAULT]\n"
            f"log_file = {self.workdir / 'keystone.log'}\n"
            "[database]\n"
            f"connection = sqlite:///{self.workdir / 'keystone.db'}\n"
            "[token]\nprovider = fernet\nexpiration = 3600\n"
            f"[fernet_tokens]\nkey_repository = {self.workdir / 'fernet-keys'}\n"
            f"[credential]\nkey_repository = {self.workdir / 'credential-keys'}\n"
            "[identity]\npassword_hash_rounds = 4\n"
        )
        self._manage("db_sync")
        owner = ("--keystone-user", "root", "--keystone-group", "root")
        self._manage("fernet_setup", *owner)
        self._manage("credential_setup", *owner)
        self._manage(
            "bootstrap",
            "--bootstrap-password",
            ADMIN_PASSWORD,
            "--bootstrap-username",
            "admin",
            "--bootstrap-project-name",
            "admin",
            "--bootstrap-role-name",
            "admin",
            "--bootstrap-region-id",
            "RegionOne",
            "--bootstrap-public-url",
            f"{self.url}/v3/",
        )
        # WAL: a read transaction Keystone leaves open in one pooled connection must
        # not block its writes on another ("database is locked" after 5 s otherwise)
        with sqlite3.connect(self.workdir / "keystone.db") as db:
            db.execute("PRAGMA journal_mode=WAL")
        log = (self.workdir / "wsgi.log").open("wb")
        self._log = log
        self.process = subprocess.Popen(
            [KEYSTONE_WSGI, "--host", "127.0.0.1", "--port", str(self.port)],
            env={**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(self.config)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._answers, timeout=START_DEADLINE, what=f"Keystone /v3 on {self.url}")

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"keystone-wsgi-public exited with {self.process.returncode}; see "
                f"{self.workdir / 'wsgi.log'}"
            )
        try:
            return httpx.get(f"{self.url}/v3", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if getattr(self, "_log", None) is not None:
            self._log.close()
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    # --- administration over the real API ---------------------------------------------

    def token(self, user: str, password: str, project: str, domain: str = "default") -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": user, "domain": {"id": domain}, "password": password}
                    },
                },
                "scope": {"project": {"name": project, "domain": {"id": domain}}},
            }
        }
        answer = httpx.post(f"{self.url}/v3/auth/tokens", json=body, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.headers["X-Subject-Token"]

    def _admin(self) -> httpx.Client:
        token = self.token("admin", ADMIN_PASSWORD, "admin")
        return httpx.Client(base_url=f"{self.url}/v3", headers={"X-Auth-Token": token}, timeout=30)

    def _id(self, client: httpx.Client, kind: str, name: str) -> str:
        items: list[dict[str, Any]] = client.get(f"/{kind}", params={"name": name}).json()[kind]
        assert items, f"no {kind} {name}"
        return str(items[0]["id"])

    def project_id(self, name: str, domain: str = "default") -> str:
        with self._admin() as admin:
            found = admin.get("/projects", params={"name": name, "domain_id": domain}).json()
            assert found["projects"], f"no project {name} in domain {domain}"
            return str(found["projects"][0]["id"])

    def add_domain(self, domain_id_hint: str) -> str:
        """A new domain named ``domain_id_hint``; returns its id."""
        with self._admin() as admin:
            made = admin.post("/domains", json={"domain": {"name": domain_id_hint}})
            assert made.status_code == 201, made.text
            return str(made.json()["domain"]["id"])

    def add_user(
        self, name: str, password: str, project: str, role: str | None, domain: str = "default"
    ) -> None:
        """Create project (if new) and user in ``domain`` (an id), and grant ``role``
        on the project."""
        with self._admin() as admin:
            made = admin.post("/projects", json={"project": {"name": project, "domain_id": domain}})
            assert made.status_code in (201, 409), made.text
            made = admin.post(
                "/users",
                json={"user": {"name": name, "password": password, "domain_id": domain}},
            )
            assert made.status_code == 201, made.text
            if role is None:
                return
            found = admin.get("/projects", params={"name": project, "domain_id": domain})
            project_id, user_id = found.json()["projects"][0]["id"], made.json()["user"]["id"]
            role_id = self._id(admin, "roles", role)
            granted = admin.put(f"/projects/{project_id}/users/{user_id}/roles/{role_id}")
            assert granted.status_code == 204, granted.text


def keystone_settings(tmp_path: Path, url: str, admin_project_id: str | None = None) -> Settings:
    return Settings(
        database_url=sqlite_url(tmp_path / "sdwan.db"),
        admin_token="ks-test-bootstrap-token-0123456789abcdef",
        secret_key_file=tmp_path / "secret.key",
        auth_backend="keystone",
        keystone=KeystoneConfig(
            url=url,
            username="admin",
            password=ADMIN_PASSWORD,
            project="admin",
            cache_ttl=CACHE_TTL,
            timeout=3.0,
            admin_project_id=admin_project_id,
        ),
    )
