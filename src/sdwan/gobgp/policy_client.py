"""The routing-policy calls of GobgpClient (defined sets, policies, the global
assignment, soft resets), kept apart from the peer calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sdwan.domain.policy import SetType
from sdwan.domain.policy_compile import CompiledPolicy
from sdwan.gobgp import policy_convert as convert
from sdwan.gobgp._pb import gobgp_pb2 as pb

T = TypeVar("T")
_SOFT = {"import": pb.ResetPeerRequest.IN, "export": pb.ResetPeerRequest.OUT}


class _Calls(Protocol):
    timeout: float
    _stub: Any

    def _call(self, what: str, fn: Callable[[], T]) -> T: ...


class PolicyCalls:
    def list_sets(self: _Calls, only: SetType | None = None) -> dict[str, convert.ActualSet]:
        """Every defined set (one ListDefinedSet per type), or those of type ``only``."""
        found: dict[str, convert.ActualSet] = {}
        types = convert.SET_TYPES.values() if only is None else [convert.SET_TYPES[only]]
        for defined_type in types:
            request = pb.ListDefinedSetRequest(defined_type=defined_type)

            def fetch(r: pb.ListDefinedSetRequest = request) -> list[Any]:
                return list(self._stub.ListDefinedSet(r, timeout=self.timeout))

            for reply in self._call("ListDefinedSet", fetch):
                found[reply.defined_set.name] = convert.set_from_proto(reply.defined_set)
        return found

    def add_set_members(
        self: _Calls, name: str, set_type: SetType, members: tuple[Any, ...]
    ) -> None:
        """Creates the set, or adds members to it."""
        request = pb.AddDefinedSetRequest(defined_set=convert.set_to_proto(name, set_type, members))
        self._call(
            f"AddDefinedSet {name}", lambda: self._stub.AddDefinedSet(request, timeout=self.timeout)
        )

    def remove_set_members(
        self: _Calls, name: str, set_type: SetType, members: tuple[Any, ...]
    ) -> None:
        request = pb.DeleteDefinedSetRequest(
            defined_set=convert.set_to_proto(name, set_type, members), all=False
        )
        self._call(
            f"DeleteDefinedSet {name} (members)",
            lambda: self._stub.DeleteDefinedSet(request, timeout=self.timeout),
        )

    def delete_set(self: _Calls, name: str, set_type: SetType) -> None:
        request = pb.DeleteDefinedSetRequest(
            defined_set=convert.set_to_proto(name, set_type, ()), all=True
        )
        self._call(
            f"DeleteDefinedSet {name}",
            lambda: self._stub.DeleteDefinedSet(request, timeout=self.timeout),
        )

    def list_policies(self: _Calls) -> dict[str, tuple[str, ...]]:
        """Policy name -> its statement names."""
        replies = self._call(
            "ListPolicy",
            lambda: list(self._stub.ListPolicy(pb.ListPolicyRequest(), timeout=self.timeout)),
        )
        return {r.policy.name: tuple(s.name for s in r.policy.statements) for r in replies}

    def add_policy(self: _Calls, policy: CompiledPolicy) -> None:
        request = pb.AddPolicyRequest(policy=convert.policy_to_proto(policy))
        self._call(
            f"AddPolicy {policy.name}", lambda: self._stub.AddPolicy(request, timeout=self.timeout)
        )

    def delete_policy(self: _Calls, name: str) -> None:
        request = pb.DeletePolicyRequest(policy=pb.Policy(name=name), all=True)
        self._call(
            f"DeletePolicy {name}", lambda: self._stub.DeletePolicy(request, timeout=self.timeout)
        )

    def get_assignment(self: _Calls, direction: str) -> tuple[tuple[str, ...], str]:
        request = pb.ListPolicyAssignmentRequest(name="global")
        request.direction = convert.direction_to_proto(direction)  # type: ignore[assignment]
        replies = self._call(
            "ListPolicyAssignment",
            lambda: list(self._stub.ListPolicyAssignment(request, timeout=self.timeout)),
        )
        if not replies:
            return (), "accept"
        assignment = replies[0].assignment
        return (
            tuple(p.name for p in assignment.policies),
            convert.default_from_proto(assignment.default_action),
        )

    def set_assignment(self: _Calls, direction: str, names: tuple[str, ...], default: str) -> None:
        request = pb.SetPolicyAssignmentRequest(
            assignment=convert.assignment_to_proto(direction, names, default)
        )
        self._call(
            f"SetPolicyAssignment {direction}",
            lambda: self._stub.SetPolicyAssignment(request, timeout=self.timeout),
        )

    def soft_reset(self: _Calls, address: str, direction: str) -> None:
        request = pb.ResetPeerRequest(address=address, soft=True, direction=_SOFT[direction])
        self._call(
            f"ResetPeer {address} soft {direction}",
            lambda: self._stub.ResetPeer(request, timeout=self.timeout),
        )
