"""The original's ``policyinfo`` action text ("next-hop self", the gobgp CLI's
statement-action words) turned into a statement's actions."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from sdwan.domain.policy import Actions
from sdwan.domain.values import check_ip

FORMS = (
    "next-hop self",
    "next-hop unchanged",
    "next-hop ADDRESS",
    "local-pref N",
    "med N",
    "med +N",
    "med -N",
    "as-prepend N",
    "as-prepend ASN N",
    "community add|remove|replace C[,C]",
    "none",
)


def parse_statement_action(text: str) -> dict[str, Any]:
    """Actions (without the disposition) for ``text``; ValueError naming the forms."""
    words = text.split()
    try:
        actions = _parse(words)
    except (ValueError, IndexError):
        raise ValueError(
            f"cannot read statement action {text!r}; use one of: {', '.join(FORMS)}"
        ) from None
    try:  # the numbers' ranges, the communities' syntax: as a policy's own actions
        Actions.model_validate(actions)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise ValueError(f"{text!r}: {where + ': ' if where else ''}{reason}") from None
    return actions


def _parse(words: list[str]) -> dict[str, Any]:
    if not words or words == ["none"]:
        return {}
    verb, args = words[0].lower(), words[1:]
    if verb == "next-hop" and len(args) == 1:
        return {"next_hop": args[0] if args[0] in ("self", "unchanged") else check_ip(args[0])}
    if verb == "local-pref" and len(args) == 1:
        return {"local_pref": int(args[0])}
    if verb == "med" and len(args) == 1:
        value = args[0]
        if value.startswith("+"):
            return {"med": {"add": int(value[1:])}}
        if value.startswith("-"):
            return {"med": {"subtract": int(value[1:])}}
        return {"med": {"set": int(value)}}
    if verb == "as-prepend" and len(args) in (1, 2):
        asn: str | int = "own" if len(args) == 1 else int(args[0])
        return {"as_path_prepend": {"asn": asn, "times": int(args[-1])}}
    if verb == "community" and len(args) == 2 and args[0] in ("add", "remove", "replace"):
        return {"communities": {args[0]: args[1].split(",")}}
    raise ValueError(verb)
