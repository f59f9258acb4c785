"""Protection of secrets at rest that must be given back to gobgpd (BGP passwords).

Sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a key kept in a file only its
owner can read (or given as SDWAN_SECRET_KEY, which sdwan.config reads). Tokens are
not sealed but hashed: see sdwan.auth."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_key_file(cls, path: Path, *, key: str | None = None) -> SecretBox:
        """The box for ``key`` when given (SDWAN_SECRET_KEY), else for the key in
        ``path``, created (mode 0600) on first use."""
        if key:
            return cls(key.encode())
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            raise ValueError(
                "sealed secret does not match the key (was the key file replaced?)"
            ) from None
