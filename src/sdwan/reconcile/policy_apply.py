"""The policy stage of a pass: make gobgpd's defined sets, policies and global
assignments match the compiled router policy, then soft-reset the neighbors whose
routes the change can affect.

Order matters for a hitless change: sets first (members added before removed),
then new content-addressed policies, then one SetPolicyAssignment per direction
that switches to them, and only then removal of what is no longer assigned."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field

from sdwan.domain.policy_compile import DIRECTIONS, CompiledRouterPolicy
from sdwan.errors import SpeakerRejected
from sdwan.gobgp.client import BgpSpeaker
from sdwan.gobgp.policy_convert import ActualSet, gobgp_members
from sdwan.reconcile.claims import is_claim


@dataclass
class PolicyResult:
    changed_directions: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)  # what differed without a pending change
    steps: list[str] = field(default_factory=list)


def apply_policy(
    speaker: BgpSpeaker, desired: CompiledRouterPolicy, *, peers: list[str]
) -> PolicyResult:
    """SpeakerUnreachable/SpeakerRejected propagate: the caller marks the policy
    resources of the router ERROR with the reason."""
    result = PolicyResult()
    actual_sets = _ours(speaker.list_sets())
    deferred: list[str] = []
    for name, spec in desired.sets.items():
        want = gobgp_members(spec)
        have = actual_sets.get(name)
        if have is not None and have[0] != spec.set_type:
            deferred.append(name)  # a stray set of another type holds the name
            continue
        present = set(have[1]) if have else set()
        missing = tuple(m for m in want if m not in present)
        extra = tuple(m for m in sorted(present) if m not in set(want))
        if have is None or missing:
            speaker.add_set_members(name, spec.set_type, missing)
            result.steps.append(f"set {name}: +{len(missing)}")
        if extra:
            speaker.remove_set_members(name, spec.set_type, extra)
            result.steps.append(f"set {name}: -{len(extra)}")

    actual_policies = speaker.list_policies()
    for name, policy in desired.policies.items():
        statements = tuple(s.name for s in policy.statements)
        if actual_policies.get(name) == statements:
            continue
        if name in actual_policies:  # edited behind our back: rebuild it
            _unassign(speaker, name)
            speaker.delete_policy(name)
            result.drift.append(f"policy {name} was changed on gobgpd")
        speaker.add_policy(policy)
        result.steps.append(f"policy {name}")

    for direction in DIRECTIONS:
        want = desired.assignments.get(direction, ((), "accept"))
        if speaker.get_assignment(direction) != want:
            speaker.set_assignment(direction, *want)
            result.changed_directions.append(direction)
            result.steps.append(f"assignment {direction}: {', '.join(want[0]) or '-'}")

    # gobgpd changes only by our writes here: nothing written, nothing to read again
    if result.steps:
        actual_policies, actual_sets = speaker.list_policies(), _ours(speaker.list_sets())
    for name in set(actual_policies) - set(desired.policies):
        speaker.delete_policy(name)
        result.steps.append(f"delete policy {name}")
    for name, (set_type, _members) in actual_sets.items():
        if name not in desired.sets or desired.sets[name].set_type != set_type:
            speaker.delete_set(name, set_type)
            result.steps.append(f"delete set {name}")
    for name in deferred:  # now that the stray is gone
        spec = desired.sets[name]
        speaker.add_set_members(name, spec.set_type, gobgp_members(spec))

    for direction in result.changed_directions:
        for address in peers:
            # not established: it gets the new policy when it comes up
            with suppress(SpeakerRejected):
                speaker.soft_reset(address, direction)
    return result


def _ours(sets: dict[str, ActualSet]) -> dict[str, ActualSet]:
    """The sets policy manages: not the gobgpd's ownership claim (reconcile/claims.py)."""
    return {name: value for name, value in sets.items() if not is_claim(name)}


def _unassign(speaker: BgpSpeaker, name: str) -> None:
    for direction in DIRECTIONS:
        names, default = speaker.get_assignment(direction)
        if name in names:
            speaker.set_assignment(direction, tuple(n for n in names if n != name), default)
