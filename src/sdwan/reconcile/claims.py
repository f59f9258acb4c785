"""Which router a gobgpd belongs to, written on the gobgpd itself.

Address checks at the API cannot see every way to reach one gobgpd (a host name and
its address, this host's external address and loopback). If one gobgpd were declared
twice, the two routers' passes would "repair" each other's work forever (the gobgpd
flipping between two ASes). So a full pass first claims its gobgpd: a defined set
named ``sdwan.owner.<router id>.<address digest>`` (a name no user object can have:
user names have no dots). A gobgpd that carries the live claim of another router
belongs to that router when it was declared first (creation time, then id): this
router is then not applied at all (SpeakerClaimed: status ERROR, retried with
backoff) until the other is deleted or points elsewhere. A claim is stale when its
router no longer exists or now points at another address than the one it claimed
under (a store restored from elsewhere, a router deleted or moved while this gobgpd
was away); stale claims are removed. gobgpd ignores a defined set no policy names."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from sdwan.domain.policy import SetType
from sdwan.errors import SpeakerClaimed
from sdwan.gobgp.client import BgpSpeaker
from sdwan.store.records import RouterRecord

CLAIM_PREFIX = "sdwan.owner."
_CLAIM_TYPE = SetType.PREFIX
_CLAIM_MEMBERS = (("0.0.0.0/32", 32, 32),)  # a set needs a member; never matched


def is_claim(set_name: str) -> bool:
    return set_name.startswith(CLAIM_PREFIX)


def claim_name(router: RouterRecord) -> str:
    digest = hashlib.sha256(router.api_address.encode()).hexdigest()[:12]
    return f"{CLAIM_PREFIX}{router.id}.{digest}"


def claim(
    speaker: BgpSpeaker,
    router: RouterRecord,
    routers_by_id: Callable[[Iterable[str]], dict[str, RouterRecord]],
) -> None:
    """Make sure the gobgpd is this router's; raise SpeakerClaimed if it is another's.
    One ListDefinedSet (prefix sets) when the claim is already there."""
    mine = claim_name(router)
    names = {name for name in speaker.list_sets(only=_CLAIM_TYPE) if is_claim(name)}
    by_router = {name.removeprefix(CLAIM_PREFIX).rsplit(".", 1)[0]: name for name in names}
    others = set(by_router) - {router.id}
    existing = routers_by_id(others) if others else {}
    live = {
        other: record
        for other, record in existing.items()
        if claim_name(record) == by_router[other]  # still points where it claimed from
    }
    for name in sorted(names - {mine} - {by_router[o] for o in live}):
        speaker.delete_set(name, _CLAIM_TYPE)  # stale, or ours under an old address
    first = [o for o in live.values() if (o.created_at, o.id) < (router.created_at, router.id)]
    if first:
        if mine in names:  # claimed at the same moment as the older one: yield
            speaker.delete_set(mine, _CLAIM_TYPE)
        raise SpeakerClaimed(
            f"gobgpd at {router.api_address} already carries another router's identity "
            "(declared earlier under another address that reaches the same gobgpd); "
            "this router is not applied until that one is deleted or points elsewhere"
        )
    if mine not in names:
        speaker.add_set_members(mine, _CLAIM_TYPE, _CLAIM_MEMBERS)


def release(speaker: BgpSpeaker, router: RouterRecord) -> None:
    """Remove this router's claim (the router is deleted)."""
    if claim_name(router) in speaker.list_sets(only=_CLAIM_TYPE):
        speaker.delete_set(claim_name(router), _CLAIM_TYPE)
