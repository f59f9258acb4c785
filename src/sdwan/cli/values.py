"""Option values as the commands read them: only those given, choices, prefixes, lists and
integers that may be cleared. Every failure is a :class:`CliError` naming the option."""

from __future__ import annotations

import ipaddress
import sys
import uuid
from typing import Any

from sdwan.cli.errors import CliError


def given(**options: Any) -> dict[str, Any]:
    """The options given (those not None), in order: a request body or query of just those."""
    return {key: value for key, value in options.items() if value is not None}


def choice(value: str | None, option: str, choices: tuple[str, ...]) -> str | None:
    """One of ``choices``, matched case-insensitively and spelled as there; None stays None."""
    if value is None:
        return None
    for known in choices:
        if value.lower() == known.lower():
            return known
    raise CliError(f"{option} must be one of {', '.join(choices)}, got {value!r}")


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def canonical_prefix(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError as exc:
        raise CliError(f"{text!r} is not a prefix: {exc}") from None


def split_list(values: list[str] | None) -> list[str] | None:
    """A repeatable option: None when not given; ``''`` items dropped (``--x ''`` clears)."""
    if values is None:
        return None
    return [value.strip() for value in values if value.strip()]


CLEAR: Any = ...  # optional_int's "set it to null", unlike None: "not given"


def optional_int(text: str | None, option: str, low: int = 0, high: int = 4294967295) -> Any:
    """An integer option that may also be cleared: None (not given), ``''``/``none`` -> CLEAR."""
    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return CLEAR
    try:
        value = int(text)
    except ValueError:
        raise CliError(f"{option}: expected a whole number or 'none', got {text!r}") from None
    if not low <= value <= high:
        raise CliError(f"{option}: must be from {low} to {high}, got {value}")
    return value


def read_secret(value: str | None, from_stdin: bool, option: str) -> str | None:
    """A secret given as ``--<option>`` (visible in ``ps``) or read from stdin with
    ``--<option>-stdin`` (one line: its line break dropped); not both."""
    if value is not None and from_stdin:
        raise CliError(f"give either --{option} or --{option}-stdin, not both")
    if not from_stdin:
        return value
    return sys.stdin.read().removesuffix("\n").removesuffix("\r")
