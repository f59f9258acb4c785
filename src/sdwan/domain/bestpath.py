"""BGP best-path selection exactly as gobgpd 3.10 runs it, with the reason spelled out.

The steps and their order are gobgpd's (internal/pkg/table/destination.go, ``sort``):

 1. not LLGR-stale             6. origin: IGP < EGP < incomplete
 2. reachable next hop         7. lowest MED, compared only when both paths come from
 3. highest local preference      the same neighbor AS or both are internal (no AS path)
    (absent: 100)              8. eBGP over iBGP
 4. locally originated         9. the older path, between two eBGP paths
 5. shortest AS path          10. lowest router id of the sending peer (not between two
    (a set counts 1,              eBGP paths, nor between an eBGP and an iBGP one)
    confederations 0)         11. lowest neighbor address (a local path wins)

gobgpd has no weight and no IGP-cost step (both are no-ops it removed). The paths are
sorted with a stable insertion sort using the pairwise comparison, in the order the
paths arrived; the first is the best. Multipath (``use_multiple_paths``) takes every
path that gobgpd's ``Path.Compare`` finds equal to the best: same origin locality,
same iBGP/eBGP kind, local preference, AS-path length, origin and MED. Pure."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum

from sdwan.domain.route import ORIGIN_RANK, PathAttrs


class Step(StrEnum):
    ONLY_PATH = "only path"
    LLGR_STALE = "not LLGR-stale"
    NEXT_HOP = "reachable next hop"
    LOCAL_PREF = "local preference"
    LOCAL_ORIGIN = "locally originated"
    AS_PATH = "AS path length"
    ORIGIN = "origin"
    MED = "MED"
    EBGP = "eBGP over iBGP"
    OLDER = "older eBGP path"
    ROUTER_ID = "router id"
    NEIGHBOR = "neighbor address"
    TIE = "tie"


@dataclass(frozen=True)
class Candidate:
    """A path one router holds for one prefix, after its import policy."""

    key: str  # unique within one decision ("198.18.11.11", "local")
    attrs: PathAttrs
    neighbor: str | None = None  # sending peer; None: originated by this router
    ibgp: bool = False
    peer_router_id: str | None = None
    received_at: float | None = None  # epoch seconds: the older of two eBGP paths wins
    next_hop_invalid: bool = False

    @property
    def local(self) -> bool:
        return self.neighbor is None


@dataclass(frozen=True)
class Beat:
    """Why the winner beat one other path: the first step that told them apart."""

    loser: str  # candidate key
    step: Step
    detail: str


@dataclass
class Decision:
    best: Candidate | None
    ranked: list[Candidate] = field(default_factory=list)
    beats: list[Beat] = field(default_factory=list)
    multipath: list[Candidate] = field(default_factory=list)

    @property
    def step(self) -> Step:
        """What decided against the runner-up (the reason gobgpd would give)."""
        if self.best is None:
            return Step.TIE
        return self.beats[0].step if self.beats else Step.ONLY_PATH


Verdict = tuple[Candidate | None, Step, str]


def _pick(a: Candidate, b: Candidate, a_wins: bool | None, step: Step, detail: str) -> Verdict:
    if a_wins is None:
        return None, step, detail
    return (a if a_wins else b), step, detail


def _id(text: str | None) -> int:
    try:
        return int(ipaddress.IPv4Address(text or "0.0.0.0"))
    except ValueError:
        return 0


def compare(a: Candidate, b: Candidate) -> Verdict:
    """The better of two paths and the step that decided; (None, TIE, ...) if none did."""
    pa, pb = a.attrs, b.attrs
    stale_a, stale_b = "llgr-stale" in pa.communities, "llgr-stale" in pb.communities
    if stale_a != stale_b:
        return _pick(a, b, stale_b, Step.LLGR_STALE, "the other path is LLGR-stale")
    if a.next_hop_invalid != b.next_hop_invalid:
        return _pick(a, b, b.next_hop_invalid, Step.NEXT_HOP, "the other's next hop is invalid")
    lp_a, lp_b = pa.effective_local_pref(), pb.effective_local_pref()
    if lp_a != lp_b:
        return _pick(a, b, lp_a > lp_b, Step.LOCAL_PREF, f"local-pref {lp_a} vs {lp_b}")
    if a.neighbor != b.neighbor and (a.local or b.local):
        return _pick(a, b, a.local, Step.LOCAL_ORIGIN, "originated by this router")
    len_a, len_b = pa.as_path_length(), pb.as_path_length()
    if len_a != len_b:
        return _pick(a, b, len_a < len_b, Step.AS_PATH, f"AS path length {len_a} vs {len_b}")
    org_a, org_b = ORIGIN_RANK.get(pa.origin, 2), ORIGIN_RANK.get(pb.origin, 2)
    if org_a != org_b:
        return _pick(a, b, org_a < org_b, Step.ORIGIN, f"origin {pa.origin} vs {pb.origin}")
    internal = len_a == 0 and len_b == 0
    same_as = pa.first_as() != 0 and pa.first_as() == pb.first_as()
    med_a, med_b = pa.med or 0, pb.med or 0
    if (internal or same_as) and med_a != med_b:
        return _pick(a, b, med_a < med_b, Step.MED, f"MED {med_a} vs {med_b}")
    if a.ibgp != b.ibgp:
        return _pick(a, b, b.ibgp, Step.EBGP, "learned over eBGP, the other over iBGP")
    ebgp_both = not a.ibgp and not b.ibgp and not a.local and not b.local
    age_a, age_b = a.received_at, b.received_at
    if ebgp_both and age_a is not None and age_b is not None and age_a != age_b:
        return _pick(a, b, age_a < age_b, Step.OLDER, "received earlier")
    if not (a.local and b.local) and a.ibgp and b.ibgp:
        id_a, id_b = _id(a.peer_router_id), _id(b.peer_router_id)
        if id_a != id_b:
            detail = f"router id {a.peer_router_id} vs {b.peer_router_id}"
            return _pick(a, b, id_a < id_b, Step.ROUTER_ID, detail)
    if a.local or b.local:
        return _pick(a, b, a.local, Step.NEIGHBOR, "originated by this router")
    na = ipaddress.ip_address(a.neighbor or "").packed
    nb = ipaddress.ip_address(b.neighbor or "").packed
    if na != nb:  # gobgpd: bytes.Compare of the addresses
        return _pick(a, b, na < nb, Step.NEIGHBOR, f"neighbor {a.neighbor} vs {b.neighbor}")
    return None, Step.TIE, "equal in every step"


def _less(a: Candidate, b: Candidate) -> bool:
    better, _step, _detail = compare(a, b)
    return better is None or better is a  # gobgpd: no decision keeps the first


def multipath_equal(a: Candidate, b: Candidate) -> bool:
    """gobgpd's Path.Compare(a, b) == 0: what makes two paths share as multipath."""
    pa, pb = a.attrs, b.attrs
    return (
        a.local == b.local
        and a.ibgp == b.ibgp
        and pa.effective_local_pref() == pb.effective_local_pref()
        and pa.as_path_length() == pb.as_path_length()
        and ORIGIN_RANK.get(pa.origin, 2) == ORIGIN_RANK.get(pb.origin, 2)
        and (pa.med or 0) == (pb.med or 0)
    )


def decide(candidates: list[Candidate]) -> Decision:
    """gobgpd's choice among ``candidates`` (in arrival order) and why."""
    ranked = list(candidates)
    for i in range(1, len(ranked)):  # Go's insertionSort, as sort.SliceStable on few paths
        j = i
        while j > 0 and _less(ranked[j], ranked[j - 1]):
            ranked[j], ranked[j - 1] = ranked[j - 1], ranked[j]
            j -= 1
    if not ranked or ranked[0].next_hop_invalid:
        return Decision(best=None, ranked=ranked)
    best = ranked[0]
    beats = []
    for other in ranked[1:]:
        _better, step, detail = compare(best, other)
        beats.append(Beat(other.key, step, detail))
    multipath = [c for c in ranked if not c.next_hop_invalid and multipath_equal(best, c)]
    return Decision(best=best, ranked=ranked, beats=beats, multipath=multipath)
