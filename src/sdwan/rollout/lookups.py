"""What the rollout steps read besides the row: the ids of a rollout's routers and
sites, and what the gate says is not applied yet."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from sdwan.rollout.probe import Gate
from sdwan.service.uow import reading
from sdwan.store import intent_repo, repo
from sdwan.store.availability import is_unavailable
from sdwan.store.rollout_repo import RolloutRecord

log = logging.getLogger(__name__)


class RolloutLookups:
    def __init__(self, *, engine: Engine, gate: Gate) -> None:
        self._engine = engine
        self._gate = gate

    def pending(self, router_ids: list[str]) -> list[str]:
        """What the gate says is not applied yet; a gate that cannot tell counts as not
        applied (the deadline then ends the wait)."""
        try:
            return self._gate.pending(router_ids=router_ids)
        except Exception as exc:
            if is_unavailable(exc):
                raise
            log.exception("rollouts: the gate could not read what is applied")
            return [f"(unknown: {type(exc).__name__}: {exc})"[:300]]

    def site_ids(self, rollout: RolloutRecord) -> list[str]:
        with reading(self._engine) as conn:
            found = [intent_repo.get_site(conn, key=key) for key in rollout.sites]
        return sorted({site.id for site in found if site is not None})

    def router_ids(self, keys: list[str]) -> list[str]:
        """Router ids of names or ids (a router the rollout has not created yet has none)."""
        if not keys:
            return []
        with reading(self._engine) as conn:
            found = repo.get_routers_by_keys(conn, keys=keys)
        return sorted({found[k].id for k in keys if k in found})
