"""The FIB agent's objects in the kernel: nexthop objects, groups and the routes that
use them, and the avoid set that chooses each group's members.

:meth:`KernelFib.apply` brings the kernel to the desired tiers of every prefix (a full,
level-triggered sync, planned by :func:`sdwan.fib.plan.plan_sync`);
:meth:`KernelFib.avoid` replaces only the groups whose members change, one netlink
message per group, so its time does not grow with the number of prefixes. Both run
under one lock; the kernel is read outside it. Every write goes through one netlink
socket in batches (:mod:`sdwan.fib.netlink`).

``nexthop_compat_mode``: by default the kernel sends a route notification for every
route behind a group that changes and expands the group in every route dump, which
makes a group swap cost time per prefix again. Unless told to keep it, the agent turns
it off in its network namespace while it runs (``ip route`` then shows ``nhid N``;
``ip nexthop`` shows the groups) and restores it when it stops."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sdwan.fib.netlink import (
    KernelNexthop,
    KernelRoute,
    Netlink,
    NetlinkError,
    Request,
    del_nexthop,
    del_route,
    new_group,
    new_nexthop,
    new_route,
)
from sdwan.fib.plan import (
    RTPROT_BGP,
    Ids,
    Plan,
    Tier,
    Tiers,
    group_changes,
    in_use,
    is_ours,
    plan_sync,
    swaps,
)

__all__ = ["COMPAT_SYSCTL", "KernelFib"]

log = logging.getLogger("sdwan.fib")

_LOGGED_FAILURES = 5  # per batch; the rest are counted
COMPAT_SYSCTL = Path("/proc/sys/net/ipv4/nexthop_compat_mode")


class KernelFib:
    def __init__(self, *, keep_compat: bool = False) -> None:
        self._writer = Netlink()
        self._reader = Netlink()  # the sync thread's reads, outside the lock
        self.lock = threading.Lock()
        self._ids = Ids()
        self._group_tiers: dict[int, Tiers] = {}
        self._group_hops: dict[int, Tier] = {}  # the hops each group holds now
        self._route_groups: dict[str, int] = {}
        self._avoided: dict[str, float] = {}  # next hop -> avoided since (epoch)
        self._broken: set[str] = set()  # gateways whose nexthop object the kernel refused
        self._avoid_source: str | None = None
        self.synced_at = 0.0
        self._compat_was: str | None = None
        if not keep_compat:
            self._compat_was = _set_compat("0")

    # -- reading ---------------------------------------------------------------

    def read(self) -> tuple[list[KernelRoute], list[KernelNexthop]]:
        """The main table's routes (every protocol) and every nexthop object."""
        return self._reader.routes(), self._reader.nexthops()

    def routes(self, prefixes: Sequence[str] = ()) -> dict[str, list[str]]:
        """prefix -> the kernel gateways its route uses now (all routes, or those asked)."""
        with self.lock:
            wanted = prefixes or list(self._route_groups)
            result = {}
            for prefix in wanted:
                group_id = self._route_groups.get(prefix)
                hops = self._group_hops.get(group_id) if group_id is not None else None
                if hops:
                    result[prefix] = sorted({h.gateway for h in hops})
            return result

    def no_alternative(self, prefixes: Sequence[str] = ()) -> list[str]:
        """Prefixes whose every candidate hop is avoided: they keep their best path."""
        with self.lock:
            stuck = {
                g for g, tiers in self._group_tiers.items() if in_use(tiers, self._unusable())[1]
            }
            wanted = prefixes or list(self._route_groups)
            return sorted(p for p in wanted if self._route_groups.get(p) in stuck)

    def avoided(self) -> dict[str, Any]:
        with self.lock:
            return {
                "next_hops": sorted(self._avoided),
                "since": dict(sorted(self._avoided.items())),
                "source": self._avoid_source,
            }

    # -- writing ---------------------------------------------------------------

    def apply(
        self,
        desired: Mapping[str, Tiers],
        kernel_routes: list[KernelRoute],
        kernel_nexthops: list[KernelNexthop],
    ) -> Plan:
        """One full sync: plan against the kernel as read (outside the lock: an avoid
        request never waits for it), then write the difference."""
        with self.lock:
            avoided = set(self._avoided)
        plan = plan_sync(desired, kernel_routes, kernel_nexthops, self._ids, avoided)
        with self.lock:
            refused = self._run(
                [new_nexthop(i, h.gateway, h.oif, RTPROT_BGP) for i, h in plan.nexthops],
                "nexthop",
                [f"{i} via {h.gateway}" for i, h in plan.nexthops],
            )
            broken = {plan.nexthops[i][1].gateway for i in refused}
            if set(self._avoided) != avoided or broken or self._broken:
                # the avoid set moved meanwhile, or a hop has no object: groups follow
                self._broken = broken
                plan.groups = group_changes(plan.ids, plan.kernel_groups, self._unusable())
            self._run(
                [new_group(g, m, RTPROT_BGP) for g, m in plan.groups],
                "set",
                [f"group {g} (nexthops {', '.join(map(str, m))})" for g, m in plan.groups],
            )
            failed = self._run(
                [new_route(p, g, RTPROT_BGP) for p, g in plan.routes],
                "route",
                [f"{p} -> group {g}" for p, g in plan.routes],
            )
            self._run(
                [del_route(p, RTPROT_BGP) for p in plan.removed_routes],
                "remove route",
                plan.removed_routes,
            )
            self._run(
                [del_nexthop(i) for i in plan.removed_objects],
                "remove nexthop",
                [str(i) for i in plan.removed_objects],
            )
            self._ids = plan.ids
            self._group_tiers = plan.group_tiers
            self._group_hops = {
                g: in_use(t, self._unusable())[0] for g, t in plan.group_tiers.items()
            }
            self._route_groups = plan.route_groups
            for index in failed:
                del self._route_groups[plan.routes[index][0]]
            self.synced_at = time.time()
            if plan.routes or plan.removed_routes:
                log.info(
                    "sync: %d routes set, %d removed, %d groups set, %d objects removed",
                    len(plan.routes),
                    len(plan.removed_routes),
                    len(plan.groups),
                    len(plan.removed_objects),
                )
            return plan

    def avoid(self, next_hops: Sequence[str], source: str | None) -> dict[str, Any]:
        """Make ``next_hops`` the avoid set and move the groups it affects at once."""
        started = time.perf_counter()
        with self.lock:
            now = time.time()
            self._avoided = {h: self._avoided.get(h, now) for h in sorted(set(next_hops))}
            self._avoid_source = source
            changed = swaps(self._group_tiers, self._group_hops, self._unusable())
            order = sorted(changed)
            failed = self._run(
                [new_group(g, self._ids.members(changed[g]), RTPROT_BGP) for g in order],
                "swap group",
                [str(g) for g in order],
            )
            for index, group_id in enumerate(order):
                if index not in failed:
                    self._group_hops[group_id] = changed[group_id]
        if changed:
            log.warning(
                "avoid %s (%s): %d groups moved in %.2f ms",
                ", ".join(sorted(next_hops)) or "nothing",
                source or "unnamed",
                len(changed) - len(failed),
                (time.perf_counter() - started) * 1000,
            )
        return self.avoided()

    def cleanup(self) -> None:
        """Remove every route and nexthop object of the agent (also a crashed
        predecessor's) and restore ``nexthop_compat_mode``."""
        with self.lock:
            routes, nexthops = self.read()
            mine = [r.prefix for r in routes if r.protocol == RTPROT_BGP]
            self._run([del_route(p, RTPROT_BGP) for p in mine], "remove route", mine)
            objects = sorted((not n.group, n.id) for n in nexthops if is_ours(n))
            ids = [i for _single, i in objects]  # groups first
            self._run([del_nexthop(i) for i in ids], "remove nexthop", [str(i) for i in ids])
            self._route_groups.clear()
            self._group_hops.clear()
            self._group_tiers.clear()
            if mine or ids:
                log.info("removed %d routes and %d nexthop objects", len(mine), len(ids))
        if self._compat_was is not None:
            _set_compat(self._compat_was)
            self._compat_was = None

    def _unusable(self) -> set[str]:
        """Next hops and gateways no group may use now (the caller holds the lock)."""
        return self._broken | self._avoided.keys()

    def close(self) -> None:
        self._writer.close()
        self._reader.close()

    def _run(self, requests: list[Request], what: str, names: Sequence[str]) -> set[int]:
        """Send ``requests``; log each failure; the indexes that failed."""
        if not requests:
            return set()
        failed: set[int] = set()
        for index, error in enumerate(self._writer.execute(requests)):
            if error is not None and not _gone(what, error):
                if len(failed) < _LOGGED_FAILURES:
                    log.warning("cannot %s %s: %s", what, names[index], error.strerror)
                failed.add(index)
        if len(failed) > _LOGGED_FAILURES:
            log.warning("cannot %s: %d more failures", what, len(failed) - _LOGGED_FAILURES)
        return failed


def _gone(what: str, error: NetlinkError) -> bool:
    """Removing what is already gone is not a failure."""
    return what.startswith("remove") and error.errno in (2, 3)  # ENOENT, ESRCH


def _set_compat(value: str) -> str | None:
    """Write ``nexthop_compat_mode`` of this namespace; the previous value (None if
    the kernel has no such setting)."""
    try:
        previous = COMPAT_SYSCTL.read_text().strip()
        if previous != value:
            COMPAT_SYSCTL.write_text(value)
            log.info("nexthop_compat_mode %s -> %s", previous, value)
        return previous
    except OSError as exc:
        log.warning("cannot set %s: %s", COMPAT_SYSCTL, exc)
        return None
