"""The key check of sealed secrets: the database keeps a token sealing a known
constant under the key (never the key itself), so a process started with another key
file refuses to start instead of sealing new passwords under a key the others cannot
open, or failing to open the ones already stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from sdwan.errors import StartupRefused
from sdwan.secretbox import SecretBox
from sdwan.store.cluster_tables import settings_kv
from sdwan.store.tables import neighbors

KEY = "secret_key_check"
PLAINTEXT = "sdwan secret key check"


def check_key(engine: Engine, box: SecretBox, *, key_source: str) -> None:
    """Raise StartupRefused when ``box``'s key is not the one the database was set up
    with (``key_source`` names where the key came from, for the message)."""
    with engine.begin() as conn:
        stored = _stored(conn)
        if stored is None:
            _check_existing_secrets(conn, box, key_source)
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(settings_kv).values(
                            key=KEY,
                            value=box.seal(PLAINTEXT).decode("ascii"),
                            updated_at=datetime.now(UTC),
                        )
                    )
            except IntegrityError:
                pass  # another replica wrote it first: check against that one
            stored = _stored(conn)
    assert stored is not None
    if not _opens(box, stored.encode("ascii")):
        raise StartupRefused(
            f"the secret key from {key_source} is not the key this database was set up "
            "with (its key check does not open): every replica must read the same key "
            "file (SDWAN_SECRET_KEY_FILE); refusing to start rather than seal BGP "
            "passwords that the other replicas could not open"
        )


def _stored(conn: Connection) -> str | None:
    value = conn.execute(select(settings_kv.c.value).where(settings_kv.c.key == KEY)).scalar()
    return None if value is None else str(value)


def _check_existing_secrets(conn: Connection, box: SecretBox, key_source: str) -> None:
    """A database from before the key check: a sealed password proves the key."""
    sample = conn.execute(
        select(neighbors.c.password_sealed).where(neighbors.c.password_sealed.is_not(None)).limit(1)
    ).scalar()
    if sample is not None and not _opens(box, bytes(sample)):
        raise StartupRefused(
            f"the secret key from {key_source} does not open the BGP passwords stored in "
            "this database: start with the key file they were sealed with "
            "(SDWAN_SECRET_KEY_FILE)"
        )


def _opens(box: SecretBox, sealed: bytes) -> bool:
    try:
        return box.open(sealed) is not None
    except ValueError:
        return False
