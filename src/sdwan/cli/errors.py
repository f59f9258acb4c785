"""The one failure the CLI reports: ``error: <message>``, exit 1."""

from __future__ import annotations


class CliError(Exception):
    """A failure to report as ``error: <message>`` (exit 1)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        message = " ".join(message.split())  # always one line
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
