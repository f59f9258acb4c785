"""The policy and origination half of FakeSpeaker (tests/support/speaker.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sdwan.domain.policy import SetType
from sdwan.domain.policy_compile import CompiledPolicy
from sdwan.errors import SpeakerRejected
from sdwan.gobgp.announce_convert import Announcement
from sdwan.gobgp.paths import AsSegment, Route


@dataclass
class FakePolicyState:
    sets: dict[str, tuple[SetType, tuple[Any, ...]]] = field(default_factory=dict)
    policies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    assignments: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    resets: list[tuple[str, str]] = field(default_factory=list)
    paths: dict[str, Announcement] = field(default_factory=dict)


class FakePolicyCalls:
    policy_state: FakePolicyState

    def _check(self, call: str) -> None:
        raise NotImplementedError

    def list_sets(self, only: SetType | None = None) -> dict[str, tuple[SetType, tuple[Any, ...]]]:
        self._check("ListDefinedSet")
        return {
            k: (t, tuple(sorted(m)))
            for k, (t, m) in self.policy_state.sets.items()
            if only is None or t == only
        }

    def add_set_members(self, name: str, set_type: SetType, members: tuple[Any, ...]) -> None:
        self._check(f"AddDefinedSet {name}")
        old = self.policy_state.sets.get(name, (set_type, ()))[1]
        self.policy_state.sets[name] = (set_type, tuple(sorted(set(old) | set(members))))

    def remove_set_members(self, name: str, set_type: SetType, members: tuple[Any, ...]) -> None:
        self._check(f"DeleteDefinedSet {name}")
        old = self.policy_state.sets[name][1]
        self.policy_state.sets[name] = (set_type, tuple(m for m in old if m not in members))

    def delete_set(self, name: str, set_type: SetType) -> None:
        self._check(f"DeleteDefinedSet {name} all")
        del self.policy_state.sets[name]

    def list_policies(self) -> dict[str, tuple[str, ...]]:
        self._check("ListPolicy")
        return dict(self.policy_state.policies)

    def add_policy(self, policy: CompiledPolicy) -> None:
        self._check(f"AddPolicy {policy.name}")
        self.policy_state.policies[policy.name] = tuple(s.name for s in policy.statements)

    def delete_policy(self, name: str) -> None:
        self._check(f"DeletePolicy {name}")
        for names, _default in self.policy_state.assignments.values():
            if name in names:
                raise SpeakerRejected(f"can't delete. policy {name} is in use")
        del self.policy_state.policies[name]

    def get_assignment(self, direction: str) -> tuple[tuple[str, ...], str]:
        self._check(f"ListPolicyAssignment {direction}")
        return self.policy_state.assignments.get(direction, ((), "accept"))

    def set_assignment(self, direction: str, names: tuple[str, ...], default: str) -> None:
        self._check(f"SetPolicyAssignment {direction}")
        missing = [n for n in names if n not in self.policy_state.policies]
        if missing:
            raise SpeakerRejected(f"not found policy {missing[0]}")
        self.policy_state.assignments[direction] = (names, default)

    def soft_reset(self, address: str, direction: str) -> None:
        self._check(f"ResetPeer {address} {direction}")
        self.policy_state.resets.append((address, direction))

    def local_paths(self, family: str, prefixes: Any) -> dict[str, Route]:
        self._check("ListPath")
        out = {}
        for prefix in prefixes:
            item = self.policy_state.paths.get(prefix)
            if item is not None:
                out[prefix] = Route(
                    prefix=prefix,
                    family=item.family,
                    next_hop=item.wire_next_hop,
                    origin=item.origin,
                    med=item.med,
                    local_pref=item.local_pref,
                    communities=item.communities,
                    large_communities=item.large_communities,
                    as_path=(AsSegment("sequence", item.as_path),) if item.as_path else (),
                )
        return out

    def add_path(self, item: Announcement) -> None:
        self._check(f"AddPath {item.prefix}")
        self.policy_state.paths[item.prefix] = item

    def delete_path(self, item: Announcement) -> None:
        self._check(f"DeletePath {item.prefix}")
        self.policy_state.paths.pop(item.prefix, None)
