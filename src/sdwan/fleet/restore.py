"""Rollback: the desired state as it was right after revision N, for every object the
caller may see or only for some routers and sites, planned first and applied through
the services in one unit of work (a new revision, source ``rollback``).

What N's state was comes from the revision log: for each object changed after N, the
state before its first change after N (None: it did not exist yet). The plan compares
that with the store now, as a fleet plan does (fleet/plan.py: the same ``Change`` with
fields and the effect on BGP sessions). Applying it goes object by object through the
resource services, so every check, reference rule, event, audit entry and reconciler
notification is the usual one: routers first, then what they own (sets before the
policies naming them, policies before attachments), then sites, uplinks and intents;
deletions last, in the reverse order. An object deleted since is created again with
its old id, or kept when its deletion is still under way (its row is there, marked);
a password comes back from its sealed copy. A dry run runs all of it and rolls back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.auth.principal import Principal
from sdwan.errors import Gone, NotFound, PreconditionFailed
from sdwan.fleet.plan import Change, answer, delete_effect, router_effect, update_effect
from sdwan.fleet.restore_writes import KINDS, SECTIONS, ObjectWriter, unsupported
from sdwan.fleet.sites import SITE_EFFECT
from sdwan.service.revision_log import ROLLBACK, Expected, current_message, describe, stored_state
from sdwan.service.revisions import RevisionService, state_diff
from sdwan.service.uow import change_or_rehearsal, reading
from sdwan.store import object_state, revision_repo
from sdwan.store.object_state import ObjectState
from sdwan.store.revision_repo import ChangeScope

ORDER = object_state.RECORDED  # the order objects are created and changed in (deleted in reverse)
Key = tuple[str, str]


@dataclass(frozen=True)
class Target:
    kind: str
    id: str
    name: str  # as the revision log names it: "r1/198.18.0.2"
    state: ObjectState | None  # at the revision; None: it did not exist


@dataclass(frozen=True)
class Step:
    target: Target
    current: ObjectState | None  # in the store now; None: gone (or being deleted)

    @property
    def action(self) -> str:
        if self.target.state is None:
            return "delete"
        return "create" if self.current is None else "update"


class RestoreService:
    def __init__(self, *, engine: Engine, revisions: RevisionService, writer: ObjectWriter) -> None:
        self._engine = engine
        self._revisions = revisions
        self._writer = writer

    def rollback(
        self,
        principal: Principal,
        number: int,
        *,
        routers: Sequence[str] | None = None,
        sites: Sequence[str] | None = None,
        dry_run: bool,
        if_match: int | None = None,
    ) -> dict[str, Any]:
        """The plan (``changes``, ``effects``) that brings the objects the caller may
        see (of ``routers`` and ``sites``, by id or name, when given) back to their
        state right after revision ``number``; applied unless ``dry_run``. ``latest``:
        the newest revision the plan saw; ``if_match`` must be it (412 otherwise), also
        when the change commits. ``revision``: the revision the rollback made."""
        principal.require_write()
        own = ChangeScope(project_id=principal.project_id)
        with reading(self._engine) as conn:
            _check_kept(conn, number)
            scope = self._revisions.scope(conn, principal, routers=routers, sites=sites)
            latest = revision_repo.latest_number(conn, scope=own)
            if if_match is not None and if_match != latest:
                raise PreconditionFailed(
                    f"the desired state changed since revision {if_match} (the latest is now "
                    f"{latest}): plan again and retry"
                )
            targets = targets_after(conn, number, scope)
        with change_or_rehearsal(self._engine, dry_run=dry_run) as work:
            draft = describe(
                work,
                source=ROLLBACK,
                message=current_message.get() or f"rollback to revision {number}",
                rollback_of=number,
                expected=Expected(latest, own, if_match is not None),
            )
            steps = plan(work.conn, targets, self._writer.same)
            for step in in_order(steps):
                target = step.target
                self._writer.restore(
                    work.conn, principal, target.kind, target.id, target.state, target.name
                )
        changes = [change_of(step) for step in steps]
        return {
            **answer(changes, dry_run=dry_run, revision=draft.number),
            "rollback_of": number,
            "latest": latest,
        }


def _check_kept(conn: Connection, number: int) -> None:
    """404 for a revision that never was, 410 for one retention removed. Revision 0,
    the empty desired state before the first revision, is kept while revision 1 is
    (a rollout that began on an empty store rolls back to it; the API asks for 1 up)."""
    if revision_repo.get_revision(conn, number=number) is not None:
        return
    latest = revision_repo.latest_number(conn)
    oldest = revision_repo.oldest_number(conn)
    if number == 0 and (oldest is None or oldest <= 1):
        return
    if number < 1 or number > latest:
        raise NotFound(f"revision {number} not found (the latest is {latest})")
    raise Gone(
        f"revision {number} was removed by retention (the oldest kept is {oldest}); "
        "see SDWAN_REVISION_KEEP and SDWAN_REVISION_DAYS"
    )


def targets_after(conn: Connection, number: int, scope: ChangeScope) -> dict[Key, Target]:
    """Each object changed after revision ``number`` (within ``scope``) with its state
    right after ``number``: the state before its first change since."""
    found: dict[Key, Target] = {}
    for change in revision_repo.changes_after(conn, number=number, scope=scope):
        key = (change.kind, change.object_id)
        if key not in found:
            state = stored_state(change.before, change.sealed, "before")
            found[key] = Target(change.kind, change.object_id, change.name, state)
    return found


def plan(
    conn: Connection,
    targets: Mapping[Key, Target],
    same: Callable[[ObjectState | None, ObjectState | None], bool],
) -> list[Step]:
    """The objects whose state now differs from their target (``same``: whether two
    states are one), in the order changed."""
    by_kind: dict[str, list[str]] = {}
    for kind, ident in targets:
        by_kind.setdefault(kind, []).append(ident)
    now: dict[Key, ObjectState] = {}
    for kind, ids in by_kind.items():
        if kind not in object_state.kinds() or kind not in ORDER:
            raise unsupported(kind)
        now.update({(kind, i): s for i, s in object_state.states(conn, kind, ids).items()})
    steps = [Step(target, now.get(key)) for key, target in targets.items()]
    return [s for s in steps if not same(s.target.state, s.current)]


def in_order(steps: Sequence[Step]) -> list[Step]:
    """Creations and changes in ORDER (what is referred to first), then deletions in
    the reverse order (what refers to others first)."""
    rank = {kind: index for index, kind in enumerate(ORDER)}
    kept = [s for s in steps if s.action != "delete"]
    gone = [s for s in steps if s.action == "delete"]
    return sorted(kept, key=lambda s: rank[s.target.kind]) + sorted(
        gone, key=lambda s: -rank[s.target.kind]
    )


def change_of(step: Step) -> Change:
    """A step as a fleet plan shows a change: owner and key, fields, session effect."""
    target, kind = step.target, step.target.kind
    owner, _slash, key = target.name.partition("/")
    if kind in ("router", "site") or not key:
        key = owner
    fields = state_diff(step.current, target.state)
    section = SECTIONS.get(kind)
    effect: str | None = None
    if kind == "router" and step.action == "update":
        effect = router_effect(owner, fields)
    elif kind == "router" and step.action == "delete":
        effect = f"BGP stops on {owner}: all its sessions go away"
    elif section is not None and step.action == "update":
        effect = update_effect(KINDS[section], owner, key, fields)
    elif section is not None and step.action == "delete":
        effect = delete_effect(KINDS[section], owner, key)
    elif kind in ("site", "uplink", "intent"):
        effect = SITE_EFFECT
    values = {k: v[1] for k, v in fields.items()} if step.action == "create" else {}
    return Change(
        step.action,
        kind,
        owner,
        key,
        id=target.id,
        fields={} if step.action == "create" else fields,
        values=values,
        effect=effect,
    )
