"""A small REST client for the sdwan API, and the helpers the commands share.

Every failure becomes a :class:`CliError` carrying a one-line message; the app prints
it as ``error: <message>`` and exits 1. The HTTP transport can be injected (tests
pass an ``httpx.MockTransport`` through :class:`State`).
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import typer

from sdwan import __version__
from sdwan.cli.errors import CliError
from sdwan.cli.settings import load_settings

POLL_INTERVAL = 0.1
MAX_PAGE = 1000


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_from_response(response: httpx.Response, has_token: bool) -> CliError:
    status = response.status_code
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        message = str(error["message"])
        details = error.get("details")
        if isinstance(details, list) and len(details) > 1:
            for item in details:
                if not isinstance(item, dict):
                    continue
                text = str(item.get("message") or "")
                if text and text not in message:
                    message += f"; {item.get('field')}: {text}"
        code = error.get("code")
        code = str(code) if code else None
    else:
        body = one_line(response.text) or response.reason_phrase
        message, code = f"HTTP {status} from {response.request.url}: {body}", None
    if status == 401 and not has_token:
        message += " (no token configured: set SDWAN_TOKEN or run 'sdwan config set --token')"
    return CliError(message, status=status, code=code)


class ApiClient:
    """JSON over HTTP with a bearer token; answers are decoded bodies (``None`` if empty)."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        auth: str = "bearer",
        message: str | None = None,
        confirm_within: float | None = None,
    ) -> None:
        """``message``: why, sent with every write (X-Sdwan-Message): the revision's.
        ``confirm_within``: seconds (X-Sdwan-Confirm-Within): every write's revision is
        rolled back unless confirmed in time; how to confirm goes to stderr."""
        if not base_url.startswith(("http://", "https://")):
            raise CliError(f"the API URL must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.has_token = bool(token)
        self.message = message
        self.confirm_within = confirm_within
        headers = {"Accept": "application/json", "User-Agent": f"sdwan-cli/{__version__}"}
        if token and auth == "keystone":
            headers["X-Auth-Token"] = token
        elif token:
            headers["Authorization"] = f"Bearer {token}"
        # SDWAN_CA_FILE: the CA that signed an HTTPS server's certificate (sdwan serve
        # --tls-cert with a private CA); else the system's trust store
        ca_file = os.environ.get("SDWAN_CA_FILE")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=timeout,
            verify=ssl.create_default_context(cafile=ca_file) if ca_file else True,
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        if_match: str | None = None,
    ) -> Any:
        headers = {"If-Match": etag(if_match)} if if_match else {}
        if self.message and method != "GET":
            headers["X-Sdwan-Message"] = message_header(self.message)
        if self.confirm_within is not None and method != "GET":
            headers["X-Sdwan-Confirm-Within"] = f"{self.confirm_within:g}"
        try:
            response = self._http.request(
                method, path, params=dict(params or {}), json=body, headers=headers
            )
        except httpx.ConnectError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else one_line(str(exc))
            raise CliError(
                f"cannot connect to the sdwan API at {self.base_url} ({reason}); is the server "
                "running? Set SDWAN_URL or run 'sdwan config set --url URL'"
            ) from None
        except httpx.TimeoutException:
            raise CliError(f"the sdwan API at {self.base_url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise CliError(f"request to {self.base_url} failed: {one_line(str(exc))}") from None
        if response.status_code >= 400:
            raise _error_from_response(response, self.has_token)
        rollout = response.headers.get("X-Sdwan-Rollout")
        if rollout is not None:  # the write awaits confirmation (X-Sdwan-Confirm-Within)
            typer.echo(f"confirm with: sdwan rollout confirm {rollout}", err=True)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(
                f"the API at {self.base_url} answered {method} {path} with non-JSON content"
            ) from None

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def stream_lines(
        self, path: str, params: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Iterator[str]:
        """GET a never-ending text body line by line (Server-Sent Events)."""
        try:
            with self._http.stream(
                "GET",
                path,
                params=dict(params),
                headers=dict(headers),
                timeout=httpx.Timeout(10.0, read=None),
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_from_response(response, self.has_token)
                yield from response.iter_lines()
        except httpx.ConnectError as exc:
            raise CliError(
                f"cannot connect to the sdwan API at {self.base_url} ({one_line(str(exc))})"
            ) from None
        except httpx.HTTPError as exc:
            reason = one_line(str(exc))
            raise CliError(f"event stream from {self.base_url} broke: {reason}") from None

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: Mapping[str, Any], *, if_match: str | None = None) -> Any:
        return self.request("PATCH", path, body=body, if_match=if_match)

    def delete(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        if_match: str | None = None,
    ) -> Any:
        return self.request("DELETE", path, params=params, if_match=if_match)


def etag(version: str) -> str:
    """``3`` or ``"3"`` -> ``"3"`` (the ETag form the API sends and expects)."""
    version = version.strip()
    return version if version.startswith(('"', "W/")) else f'"{version}"'


def message_header(message: str) -> str:
    """A change's message as the X-Sdwan-Message header carries it: UTF-8, percent-
    encoded where it is not printable ASCII (and ``%`` itself)."""
    return quote(message, safe="".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%"))


def resource_path(collection: str, ref: str) -> str:
    return f"/v1/{collection}/{quote(ref, safe='')}"


@dataclass
class State:
    """The Typer context object: where the API is and how to reach it."""

    transport: httpx.BaseTransport | None = None
    url: str | None = None  # --url; wins over env and config
    message: str | None = None  # --message: why, for the revisions writes make
    confirm_within: float | None = None  # --confirm-within: seconds, for those revisions
    sleep: Callable[[float], None] = time.sleep
    _client: ApiClient | None = field(default=None, repr=False)

    def client(self) -> ApiClient:
        if self._client is None:
            settings = load_settings()
            self._client = ApiClient(
                self.url or settings.url,
                settings.token,
                transport=self.transport,
                auth=settings.auth,
                message=self.message,
                confirm_within=self.confirm_within,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def get_state(ctx: typer.Context) -> State:
    state = ctx.find_object(State)
    if state is None:
        state = ctx.ensure_object(State)
    return state


def get_client(ctx: typer.Context) -> ApiClient:
    state = get_state(ctx)
    if state._client is None:
        ctx.find_root().call_on_close(state.close)
    return state.client()


def list_items(
    client: ApiClient, path: str, params: Mapping[str, Any], *, fetch_all: bool
) -> tuple[list[dict[str, Any]], int]:
    """One page, or every page from ``offset`` on; returns the items and the total."""
    if not fetch_all:
        page = client.get(path, params) or {}
        items = list(page.get("items") or [])
        return items, int(page.get("total", len(items)))
    offset = int(params.get("offset") or 0)
    limit = int(params.get("limit") or MAX_PAGE)
    items = []
    while True:
        page = client.get(path, {**params, "limit": limit, "offset": offset}) or {}
        batch = list(page.get("items") or [])
        items.extend(batch)
        total = int(page.get("total", offset + len(batch)))
        offset += len(batch)
        if not batch or offset >= total:
            return items, total


def wait_for(
    ctx: typer.Context, path: str, label: str, *, timeout: float, gone: bool = False
) -> dict[str, Any] | None:
    """Poll ``path`` until ACTIVE (or 404 when ``gone``); ERROR or the deadline fail."""
    client, sleep = get_client(ctx), get_state(ctx).sleep
    deadline = time.monotonic() + timeout
    while True:
        try:
            current = client.get(path) or {}
        except CliError as exc:
            if gone and exc.status == 404:
                return None
            raise
        status = current.get("status")
        detail = current.get("status_detail") or ""
        if status == "ERROR":
            raise CliError(f"{label} is in ERROR: {detail or 'no detail given'}")
        if status == "ACTIVE" and not gone:
            return dict(current)
        if time.monotonic() >= deadline:
            goal = "to be deleted" if gone else "to become ACTIVE"
            suffix = f": {detail}" if detail else ""
            raise CliError(
                f"timed out after {timeout:g}s waiting for {label} {goal} (status {status}{suffix})"
            )
        sleep(POLL_INTERVAL)
