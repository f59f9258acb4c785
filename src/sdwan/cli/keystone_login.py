"""``sdwan login --keystone``: a project-scoped token from Keystone v3 with the usual
OS_AUTH_URL / OS_USERNAME / OS_PASSWORD / OS_PROJECT_NAME (and OS_USER_DOMAIN_NAME,
OS_PROJECT_DOMAIN_NAME, default "Default") variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

from sdwan.cli.client import one_line
from sdwan.cli.errors import CliError


def keystone_token(env: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """(token, summary) from Keystone; the password is only sent to OS_AUTH_URL."""
    env = os.environ if env is None else env
    missing = [
        n
        for n in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME")
        if not env.get(n)
    ]
    if missing:
        raise CliError(f"--keystone needs {', '.join(missing)} in the environment")
    base = env["OS_AUTH_URL"].rstrip("/")
    url = (base if base.endswith("/v3") else base + "/v3") + "/auth/tokens"
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": env["OS_USERNAME"],
                        "domain": {"name": env.get("OS_USER_DOMAIN_NAME", "Default")},
                        "password": env["OS_PASSWORD"],
                    }
                },
            },
            "scope": {
                "project": {
                    "name": env["OS_PROJECT_NAME"],
                    "domain": {"name": env.get("OS_PROJECT_DOMAIN_NAME", "Default")},
                }
            },
        }
    }
    try:
        answer = httpx.post(url, json=body, timeout=30.0)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach Keystone at {url}: {one_line(str(exc))}") from None
    if answer.status_code == 401:
        raise CliError("Keystone refused the credentials (OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME)")
    if answer.status_code != 201 or "X-Subject-Token" not in answer.headers:
        raise CliError(f"Keystone answered {answer.status_code}: {one_line(answer.text)}")
    token = answer.json().get("token") or {}
    summary = {
        "user": (token.get("user") or {}).get("name"),
        "project": (token.get("project") or {}).get("name"),
        "roles": [r.get("name") for r in token.get("roles") or []],
        "expires_at": token.get("expires_at"),
    }
    return answer.headers["X-Subject-Token"], summary
