"""Where webhooks may post: the admins' allowlists (SDWAN_WEBHOOK_ALLOW, and a
project's own ``webhook_allow``: both must allow), applied to every address a hook's
host resolves to, when the hook is created or changed and again at each delivery
(with the addresses resolved then: a name that now points elsewhere is refused, and
the request goes to the address that was checked)."""

from __future__ import annotations

from collections.abc import Sequence

from sdwan.domain.api_address import IpAddress
from sdwan.domain.webhook_url import (
    DEFAULT_WEBHOOK_ALLOW,
    WebhookUrl,
    allowed,
    parse_webhook_allowlist,
    parse_webhook_url,
)
from sdwan.errors import InvalidInput
from sdwan.service.api_addresses import Resolver, resolve_to_check, system_resolver


class WebhookAddressPolicy:
    def __init__(
        self,
        allow: Sequence[str] = DEFAULT_WEBHOOK_ALLOW,
        *,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.allow = tuple(allow)
        self._entries = parse_webhook_allowlist(self.allow)
        self._resolver = resolver

    def refusal(
        self, addresses: Sequence[IpAddress], project_allow: Sequence[str] | None, project: str
    ) -> str | None:
        """Why a request to ``addresses`` is not allowed (None: it is)."""
        lists = [("the server's", self._entries, self.allow)]
        if project_allow is not None:
            own = tuple(project_allow)
            lists.append((f"project {project}'s", parse_webhook_allowlist(own), own))
        for whose, entries, texts in lists:
            if not allowed(addresses, entries):
                shown = ", ".join(texts) or "nothing"
                found = ", ".join(str(a) for a in addresses) or "no address"
                return (
                    f"{found} is not among {whose} allowed webhook addresses ({shown}); an "
                    "admin decides which may be used"
                )
        return None

    def check(
        self, text: str, project_allow: Sequence[str] | None, *, project: str, field: str
    ) -> WebhookUrl:
        """The URL in its canonical form; InvalidInput naming ``field`` when it is
        malformed, its host does not resolve, or an address it resolves to is not
        allowed."""
        try:
            url = parse_webhook_url(text)
        except ValueError as exc:
            raise InvalidInput(f"{field}: {exc}", field=field) from None
        ip = url.ip
        if ip is not None:
            addresses = [ip]
        else:
            addresses = resolve_to_check(self._resolver, url.host, url.port, field=field)
        why = self.refusal(addresses, project_allow, project)
        if why is not None:
            raise InvalidInput(f"{field}: {url.host}: {why}", field=field)
        return url


def check_webhook_allowlist(entries: Sequence[str], *, field: str) -> list[str]:
    """A project's webhook allowlist as an admin gave it, each entry in canonical form;
    InvalidInput naming the entry (``field[i]``) otherwise."""
    out = []
    for index, text in enumerate(entries):
        try:
            out.append(parse_webhook_allowlist([text])[0].text)
        except ValueError as exc:
            raise InvalidInput(f"{field}[{index}]: {exc}", field=f"{field}[{index}]") from None
    return out
