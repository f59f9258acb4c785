"""What the session knows of the labs its tests built (the ``lab_environment``
fixture, tests/conftest.py)."""

from __future__ import annotations

from sdwan.lab import list_namespaces


class LabSession:
    """Session-wide record of the lab prefixes handed out, checked at session end."""

    def __init__(self) -> None:
        self.prefixes: list[str] = []

    def leftover_namespaces(self) -> list[str]:
        return [n for n in list_namespaces() if any(n.startswith(f"{p}-") for p in self.prefixes)]
