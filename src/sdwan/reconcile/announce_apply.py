"""The announcement stage of a full pass: the router originates exactly the declared
prefixes with the declared attributes."""

from __future__ import annotations

from collections.abc import Sequence

from sdwan.gobgp.announce_convert import Announcement, matches
from sdwan.gobgp.client import BgpSpeaker
from sdwan.store.records import AnnouncementRecord


def announcement_of(row: AnnouncementRecord, asn: int) -> Announcement:
    return Announcement(
        prefix=row.prefix,
        next_hop=row.next_hop,
        origin=row.origin,
        med=row.med,
        local_pref=row.local_pref,
        communities=tuple(row.communities),
        large_communities=tuple(row.large_communities),
        as_path=(asn,) * row.as_path_prepend,
    )


def apply_announcements(
    speaker: BgpSpeaker,
    rows: Sequence[AnnouncementRecord],
    *,
    asn: int,
    withdrawn: Sequence[AnnouncementRecord],
) -> list[str]:
    """Add or refresh what differs; withdraw the rows being deleted. Returns the steps."""
    steps: list[str] = []
    wanted = [announcement_of(r, asn) for r in rows]
    for family in ("ipv4-unicast", "ipv6-unicast"):
        items = [a for a in wanted if a.family == family]
        gone = [
            announcement_of(r, asn)
            for r in withdrawn
            if (":" in r.prefix) == (family == "ipv6-unicast")
        ]
        present = speaker.local_paths(family, [a.prefix for a in items + gone])
        for item in items:
            route = present.get(item.prefix)
            if route is None or not matches(route, item):
                speaker.add_path(item)  # replaces the local path of that prefix
                steps.append(f"announce {item.prefix}")
        for item in gone:
            if item.prefix in present:
                speaker.delete_path(item)
                steps.append(f"withdraw {item.prefix}")
    return steps
