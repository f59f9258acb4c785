"""Where the CLI finds the API: environment first, then the YAML config file, then defaults.

``SDWAN_URL`` / ``SDWAN_TOKEN`` win over the file at ``$SDWAN_CONFIG`` (default
``~/.config/sdwan/config.yaml``, keys ``url`` and ``token``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sdwan.cli.errors import CliError

DEFAULT_URL = "http://127.0.0.1:9998"
ENV_URL = "SDWAN_URL"
ENV_TOKEN = "SDWAN_TOKEN"
ENV_CONFIG = "SDWAN_CONFIG"
ENV_AUTH = "SDWAN_AUTH"


@dataclass(frozen=True)
class Settings:
    url: str
    token: str | None
    config_path: Path
    url_source: str  # "env", "config" or "default"
    token_source: str | None  # "env", "config" or None when no token is set
    auth: str = "bearer"  # "keystone": send the token as X-Auth-Token (SDWAN_AUTH, config)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = env.get(ENV_CONFIG)
    if explicit:
        return Path(explicit).expanduser()
    return Path.home() / ".config" / "sdwan" / "config.yaml"


def read_config(path: Path) -> dict[str, Any]:
    """The config file's mapping; ``{}`` when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CliError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise CliError(f"config file {path} is not valid YAML: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CliError(f"config file {path} must be a mapping with keys 'url' and 'token'")
    return data


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    path = config_path(env)
    file_values = read_config(path)

    url, url_source = DEFAULT_URL, "default"
    if file_values.get("url"):
        url, url_source = str(file_values["url"]), "config"
    if env.get(ENV_URL):
        url, url_source = env[ENV_URL], "env"

    token: str | None = None
    token_source: str | None = None
    if file_values.get("token"):
        token, token_source = str(file_values["token"]), "config"
    if env.get(ENV_TOKEN):
        token, token_source = env[ENV_TOKEN], "env"
    auth = str(env.get(ENV_AUTH) or file_values.get("auth") or "bearer")
    if env.get(ENV_TOKEN) and not env.get(ENV_AUTH):
        auth = "bearer"  # a token from the environment is one of ours unless told
    return Settings(url.rstrip("/"), token, path, url_source, token_source, auth)


def write_config(
    path: Path, *, url: str | None, token: str | None, auth: str | None = None
) -> None:
    """Merge ``url``/``token``/``auth`` (those not None) into the config file, written
    mode 0600; ``auth="bearer"`` removes the key (the default)."""
    data = read_config(path)
    if url is not None:
        data["url"] = url
    if token is not None:
        data["token"] = token
    if auth == "bearer":
        data.pop("auth", None)
    elif auth is not None:
        data["auth"] = auth
    text = yaml.safe_dump(data, sort_keys=True, default_flow_style=False)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # an existing file keeps its old mode otherwise
            handle.write(text)
    except OSError as exc:
        raise CliError(f"cannot write config file {path}: {exc.strerror or exc}") from None
