"""Shared fixtures.

Unit tests need nothing special. Integration fixtures (``lab``, ``gobgpd_factory``)
depend on the session fixture ``lab_environment``, which ends the whole session
early with a clear message when the host cannot run labs (not root, no ``ip``, no
``gobgpd``); tests that do not request them never trigger that check. Tests that run
FRR use ``frr_environment``, which likewise ends the session when FRR is missing:
a missing real part fails loudly, it is never skipped.

PostgreSQL: one throwaway server for the whole session (``postgres``: Debian's
postgresql-15, initdb into a temporary directory, a private socket directory),
started by the first test that needs it and removed at the end; a migrated template
database, and a fresh database cloned from it for each test (``pg_url``).
``database_url`` runs a test on both backends (SDWAN_TEST_BACKENDS=sqlite or
=postgresql: only one).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdwan.lab import GobgpdFactory, Lab, find_gobgpd
from sdwan.lab.frr import FRR_DIR, frr_available
from sdwan.lab.postgres import PostgresServer, find_pg_bin
from sdwan.store.db import make_engine, migrate, sqlite_url
from tests.support.backends import BACKENDS
from tests.support.lab import LabSession

# fixture requested (directly or not) -> marker added. Everything built on
# lab_environment needs root; gobgpd_factory also runs real daemons, frr_environment FRR.
_INTEGRATION_MARKERS = {
    "lab_environment": "netns",
    "gobgpd_factory": "gobgpd",
    "frr_environment": "frr",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the lab fixtures they use, so ``-m 'not netns'`` etc. work."""
    for item in items:
        fixturenames = getattr(item, "fixturenames", ())
        for fixture, marker in _INTEGRATION_MARKERS.items():
            if fixture in fixturenames:
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def _isolate_sdwan_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts without SDWAN_* variables; whatever it sets is dropped after
    (monkeypatch then restores the variables of the outer environment)."""
    for key in [k for k in os.environ if k.startswith("SDWAN_")]:
        monkeypatch.delenv(key)
    yield
    for key in [k for k in os.environ if k.startswith("SDWAN_")]:
        del os.environ[key]


def _lab_environment_problems() -> list[str]:
    problems = []
    if os.geteuid() != 0:
        problems.append("not running as root (network namespaces need root)")
    ip = shutil.which("ip")
    if not ip:
        problems.append("`ip` (iproute2) not found on PATH")
    if not find_gobgpd():
        problems.append("`gobgpd` not found (apt-get install gobgpd)")
    if ip and not problems:
        proc = subprocess.run(
            [ip, "netns", "list"], capture_output=True, text=True, timeout=10, check=False
        )
        if proc.returncode != 0:
            problems.append(f"`ip netns list` failed: {proc.stderr.strip()}")
    return problems


@pytest.fixture(scope="session")
def lab_environment() -> Iterator[LabSession]:
    """Checks once that labs can run here, else stops the whole session."""
    problems = _lab_environment_problems()
    if problems:
        pytest.exit(
            "integration tests need a lab-capable host:\n  - "
            + "\n  - ".join(problems)
            + "\nrun unit tests only with: pytest tests/unit",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    session = LabSession()
    yield session
    leftovers = session.leftover_namespaces()
    if leftovers:
        pytest.fail(f"lab namespaces left behind at session end: {leftovers}")


@pytest.fixture(scope="session")
def frr_environment(lab_environment: LabSession) -> LabSession:
    """A lab-capable host with FRR's zebra and bgpd, else the whole session stops."""
    if not frr_available():
        pytest.exit(
            f"FRR tests need FRR's zebra and bgpd in {FRR_DIR} (scripts/setup installs frr)"
            "\nrun the others with: pytest -m 'not frr'",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    return lab_environment


@pytest.fixture
def lab_prefix(lab_environment: LabSession) -> str:
    """A short unique prefix for this test's namespaces, links and daemons."""
    prefix = "t" + secrets.token_hex(3)
    lab_environment.prefixes.append(prefix)
    return prefix


@pytest.fixture
def lab(request: pytest.FixtureRequest, lab_prefix: str) -> Lab:
    """A :class:`Lab` whose namespaces and links are removed after the test."""
    the_lab = Lab(lab_prefix)
    request.addfinalizer(the_lab.teardown)
    return the_lab


@pytest.fixture
def gobgpd_factory(request: pytest.FixtureRequest, lab: Lab, tmp_path: Path) -> GobgpdFactory:
    """``gobgpd_factory(name, netns=None, *, start=True, timeout=10.0)`` starts a
    ``GobgpdProcess`` named ``<prefix>-<name>`` with socket and log in ``tmp_path``,
    optionally inside a namespace. Every daemon is stopped after the test, before
    the lab's namespaces are removed."""
    factory = GobgpdFactory(tmp_path, prefix=lab.prefix)
    request.addfinalizer(factory.close_all)
    return factory


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL for the session; ends the session if it cannot run."""
    if find_pg_bin() is None:
        pytest.exit(
            "PostgreSQL tests need postgresql-15 (scripts/setup installs it)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    server = PostgresServer()
    try:
        server.start()
    except Exception as exc:
        server.close()
        pytest.exit(f"could not start PostgreSQL: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    yield server
    server.close()


@pytest.fixture(scope="session")
def pg_template(postgres: PostgresServer) -> str:
    """A database with every migration applied, cloned by ``pg_url``."""
    url = postgres.create_database("sdwan_template")
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return "sdwan_template"


@pytest.fixture
def pg_url(postgres: PostgresServer, pg_template: str) -> Iterator[str]:
    """A fresh, migrated database for this test; dropped after it."""
    name = "t_" + secrets.token_hex(6)
    url = postgres.create_database(name, template=pg_template)
    yield url
    postgres.drop_database(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test runs once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return url
    return sqlite_url(tmp_path / "sdwan.db")
