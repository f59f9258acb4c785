"""The exception tree drawn in sdwan/errors.py's docstring is the one the code has,
and the HTTP status beside each error is the one the API answers with."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sdwan import errors
from sdwan.api.errors import install

# "    ├── Name    404      what it means" (the status is optional)
_LINE = re.compile(r"^\s*(?:[│ ]*[├└]── )?([A-Z]\w+)(?:\s+(\d{3}))?(?:\s|$)")


def _drawn() -> dict[str, int | None]:
    """Each error the docstring draws -> the status beside it (None: none)."""
    assert errors.__doc__ is not None
    drawn: dict[str, int | None] = {}
    for line in errors.__doc__.splitlines():
        if "──" in line or line.strip() == "SdwanError":
            match = _LINE.match(line)
            assert match is not None, line
            drawn[match.group(1)] = int(match.group(2)) if match.group(2) else None
    return drawn


def _subclasses(kind: type[errors.SdwanError]) -> list[type[errors.SdwanError]]:
    found = [kind]
    for sub in kind.__subclasses__():
        found += _subclasses(sub)
    return found


def _raised(kind: type[errors.SdwanError]) -> errors.SdwanError:
    if kind is errors.TooManyRequests:
        return errors.TooManyRequests("x", retry_after=1)
    return kind("x")


def test_the_docstring_draws_every_error() -> None:
    assert set(_drawn()) == {kind.__name__ for kind in _subclasses(errors.SdwanError)}


@pytest.mark.parametrize("kind", _subclasses(errors.SdwanError), ids=lambda k: k.__name__)
def test_the_api_answers_with_the_status_drawn(kind: type[errors.SdwanError]) -> None:
    app = FastAPI()
    install(app)

    @app.get("/raise")
    def _raise() -> None:
        raise _raised(kind)

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/raise")
    drawn = _drawn()[kind.__name__]
    assert answer.status_code == (500 if drawn is None else drawn), answer.text
    assert answer.json()["error"]["message"] == "x"
