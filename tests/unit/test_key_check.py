"""The secrets' key check: a process started with another key file refuses to start,
on both backends; the key itself is never in the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, inspect, text

from sdwan.errors import StartupRefused
from sdwan.secretbox import SecretBox
from sdwan.store.cluster_tables import settings_kv
from sdwan.store.db import make_engine, migrate
from sdwan.store.key_check import check_key
from sdwan.store.tables import neighbors
from tests.support.runtime import fake_runtime


def test_another_key_is_refused_and_the_key_is_not_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        key = Fernet.generate_key()
        check_key(engine, SecretBox(key), key_source="a.key")  # first start: writes it
        check_key(engine, SecretBox(key), key_source="a.key")  # same key: fine
        with pytest.raises(StartupRefused, match=r"b\.key is not the key this database"):
            check_key(engine, SecretBox(Fernet.generate_key()), key_source="b.key")
        with engine.connect() as conn:
            stored = " ".join(
                repr(row)
                for name in inspect(conn).get_table_names()
                for row in conn.execute(text(f'SELECT * FROM "{name}"'))
            )
        assert key.decode() not in stored
    finally:
        engine.dispose()


def test_a_database_without_a_check_is_checked_against_its_passwords(
    database_url: str, tmp_path: Path
) -> None:
    """Made before the key check existed: a sealed password tells the right key."""
    from sdwan.config import Settings
    from tests.support.api import ADMIN_TOKEN

    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        secret_key_file=tmp_path / "secret.key",
        run_reconciler=False,
        api_address_allow=("*",),
    )
    runtime = fake_runtime(settings)
    try:
        from sdwan.auth.principal import Principal, Role
        from sdwan.schemas.neighbors import NeighborCreate
        from sdwan.schemas.routers import RouterCreate

        admin = Principal("admin", Role.ADMIN, None)
        runtime.services.routers.create_many(
            admin,
            items=[RouterCreate(name="r1", router_id="10.0.0.1", asn=65001,
                                api_address="unix:///run/sdwan/r1.sock")],
        )  # fmt: skip
        runtime.services.neighbors.create_many(
            admin,
            items=[NeighborCreate(router="r1", address="198.18.0.1", peer_asn=65000,
                                  password="s3cret")],
        )  # fmt: skip
        with runtime.engine.begin() as conn:
            conn.execute(delete(settings_kv))  # as if from before migration 0008
            assert conn.execute(neighbors.select()).first() is not None
        with pytest.raises(StartupRefused, match="does not open the BGP passwords"):
            check_key(runtime.engine, SecretBox(Fernet.generate_key()), key_source="b.key")
        check_key(runtime.engine, runtime.secrets, key_source="secret.key")  # the right one
    finally:
        runtime.engine.dispose()
        runtime.background_engine.dispose()
