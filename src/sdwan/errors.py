"""The project's exceptions. Foreign errors are translated once, at the boundary
where they occur, into the most specific of these; the API maps them to HTTP
(api/errors.py, the status beside each below; tests/unit/test_errors.py holds the two
to agree). One without a status never reaches a caller: the server refuses to start,
or the reconciler records it in a router's status.

    SdwanError
    ├── InvalidInput            422      a field's value is wrong (names the field)
    ├── NotAuthenticated        401      missing or bad credentials
    ├── PermissionDenied        403      credentials fine, role insufficient
    ├── NotFound                404      no such resource (or not visible to the caller)
    ├── Conflict                409      duplicate name/address, delete of an owner of objects
    ├── PreconditionFailed      412      If-Match does not match the current version
    ├── Gone                    410      it existed, and retention removed it (a revision)
    ├── TooManyRequests         429      login attempts throttled (Retry-After)
    ├── AuthBackendUnavailable  503      the identity backend (Keystone) does not answer
    ├── StoreUnavailable        503      the database does not answer (PostgreSQL down)
    ├── StartupRefused                   the server must not start (wrong key, name taken)
    └── SpeakerError                     talking to a gobgpd failed
        ├── SpeakerUnreachable  502      no answer (socket missing, refused, timeout)
        │   └── SpeakerTimeout  504      a read (RIB page) did not finish in time
        ├── SpeakerRejected     502      gobgpd answered with an error
        └── SpeakerClaimed               gobgpd already carries another router's identity
"""

from __future__ import annotations


class SdwanError(Exception):
    """Base of every error the project raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SdwanError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAuthenticated(SdwanError):
    pass


class PermissionDenied(SdwanError):
    pass


class NotFound(SdwanError):
    pass


class Conflict(SdwanError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PreconditionFailed(SdwanError):
    pass


class Gone(SdwanError):
    pass


class TooManyRequests(SdwanError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthBackendUnavailable(SdwanError):
    pass


class StoreUnavailable(SdwanError):
    pass


class StartupRefused(SdwanError):
    pass


class SpeakerError(SdwanError):
    pass


class SpeakerUnreachable(SpeakerError):
    pass


class SpeakerTimeout(SpeakerUnreachable):
    pass


class SpeakerRejected(SpeakerError):
    pass


class SpeakerClaimed(SpeakerError):
    """The gobgpd already carries another router's identity: declared twice (under two
    addresses that reach it), this router is not applied rather than fight the other."""
