"""A BGP path's attributes as the decision process and the policy evaluator see them.

Pure values: the gobgp layer decodes gobgpd's paths into these, the intent planner
(domain/intent_predict.py) moves them through policies and across iBGP. The AS path
helpers follow gobgpd 3.10 (internal/pkg/table/path.go, pkg/packet/bgp/bgp.go):
length counts a sequence's ASes, a set as one and confederation segments not at all."""

from __future__ import annotations

from dataclasses import dataclass, replace

SEQUENCE = "sequence"
SET = "set"
CONFED_SEQUENCE = "confed-sequence"
CONFED_SET = "confed-set"
ORIGIN_RANK = {"igp": 0, "egp": 1, "incomplete": 2}
DEFAULT_LOCAL_PREF = 100


@dataclass(frozen=True)
class AsPathSegment:
    kind: str  # sequence | set | confed-sequence | confed-set
    asns: tuple[int, ...]

    def length(self) -> int:
        if self.kind == SEQUENCE:
            return len(self.asns)
        return 1 if self.kind == SET else 0

    def text(self) -> str:
        if self.kind == SET:
            return "{" + ",".join(map(str, self.asns)) + "}"
        if self.kind == CONFED_SEQUENCE:
            return "(" + " ".join(map(str, self.asns)) + ")"
        if self.kind == CONFED_SET:
            return "[" + ",".join(map(str, self.asns)) + "]"
        return " ".join(map(str, self.asns))


@dataclass(frozen=True)
class PathAttrs:
    """One path to one prefix: what policy matches and changes, what the decision
    process compares. ``local_pref`` None means absent (compared as 100)."""

    prefix: str
    next_hop: str | None = None
    as_path: tuple[AsPathSegment, ...] = ()
    origin: str = "igp"
    med: int | None = None
    local_pref: int | None = None
    communities: tuple[str, ...] = ()
    large_communities: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return "ipv6-unicast" if ":" in self.prefix else "ipv4-unicast"

    def as_path_length(self) -> int:
        return sum(segment.length() for segment in self.as_path)

    def as_path_text(self) -> str:
        """As gobgpd prints it and as its AS-path regular expressions see it."""
        return " ".join(segment.text() for segment in self.as_path)

    def as_sequence(self) -> list[int]:
        """gobgpd's GetAsSeqList: sequences' ASes, a 0 for every other segment."""
        out: list[int] = []
        for segment in self.as_path:
            out.extend(segment.asns if segment.kind == SEQUENCE else (0,))
        return out

    def first_as(self) -> int:
        """The neighbor AS for MED comparison (confederation segments skipped)."""
        for segment in self.as_path:
            if segment.asns and segment.kind in (SEQUENCE, SET):
                return segment.asns[0]
        return 0

    def effective_local_pref(self) -> int:
        return DEFAULT_LOCAL_PREF if self.local_pref is None else self.local_pref

    def prepended(self, asn: int, times: int) -> PathAttrs:
        """gobgpd's PrependAsn: into the first sequence, or a new one in front."""
        if times <= 0:
            return self
        path = list(self.as_path)
        if path and path[0].kind == SEQUENCE:
            path[0] = AsPathSegment(SEQUENCE, (asn,) * times + path[0].asns)
        else:
            path.insert(0, AsPathSegment(SEQUENCE, (asn,) * times))
        return replace(self, as_path=tuple(path))
