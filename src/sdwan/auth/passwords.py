"""Password hashing: scrypt (RFC 7914, memory-hard) from the standard library.

Why scrypt and not argon2: it is in ``hashlib`` (OpenSSL), so no compiled dependency
to install or audit, and its memory cost defeats GPU/ASIC guessing much as argon2id's
does. N=2**17, r=8, p=1 is OWASP's current minimum for scrypt: 128 MiB and a few
tenths of a second per hash, so at most ``MAX_CONCURRENT`` hashes run at once (the
rest wait their turn). The parameters and a random 16-byte salt are stored with the
hash: hashes made with older parameters keep working and are replaced at the next
successful login (``needs_rehash``). Only logins and password changes hash: API
tokens are random 256-bit values checked by SHA-256."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading

N, R, P = 2**17, 8, 1
_MAXMEM = 128 * R * N + 32 * 1024 * 1024  # scrypt needs 128*r*N bytes, plus headroom
_LEN = 32
MIN_LENGTH = 8
MAX_CONCURRENT = 2  # 128 MiB each: parallel logins cannot exhaust memory
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if n > N or r > R or p > P:  # a stored hash may not make us spend more than ours
        raise ValueError("scrypt parameters above this server's")
    with _slots:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_LEN
        )


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _derive(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, _unb64(digest))


def needs_rehash(stored: str) -> bool:
    """True for a hash made with other parameters than today's."""
    try:
        scheme, n, r, p, _salt, _digest = stored.split("$")
    except ValueError:
        return True
    return scheme != "scrypt" or (n, r, p) != (str(N), str(R), str(P))


@functools.cache
def dummy_hash() -> str:
    """Verified against when the user does not exist, so both cases take the same
    time; made at first use, not at import."""
    return hash_password(secrets.token_urlsafe(16))
