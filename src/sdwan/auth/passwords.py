"""Password hashing: scrypt (RFC 7914, memory-hard) from the standard library.

Why scrypt and not argon2: it is in ``hashlib`` (OpenSSL), so no compiled dependency
to install or audit, and its memory cost defeats GPU/ASIC guessing much as argon2id's
does. N=2**15, r=8, p=1 costs 32 MiB and ~0.1 s per hash. The parameters and a random
16-byte salt are stored with the hash, so they can be raised later without breaking
existing hashes (``needs_rehash``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
_LEN = 32
MIN_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_LEN)


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


# verified against when the user does not exist, so both cases take the same time
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
