"""Compiling sets, policies and attachments for gobgpd 3.10 (pure logic)."""

from __future__ import annotations

from typing import Any

import pytest

from sdwan.domain.policy import SetType, Statement, check_members
from sdwan.domain.policy_compile import AttachmentSpec, SetSpec, compile_router_policy
from sdwan.domain.policyinfo import parse_statement_action
from sdwan.gobgp.policy_convert import gobgp_members


def _st(raw: dict[str, Any]) -> Statement:
    return Statement.model_validate(raw)


ACCEPT_NH_SELF = _st({"name": "s1", "actions": {"next_hop": "self", "disposition": "accept"}})


def test_unscoped_attachment_assigns_the_policy_as_is() -> None:
    compiled = compile_router_policy(
        asn=65001,
        sets=[],
        policies={"p": [ACCEPT_NH_SELF]},
        attachments=[AttachmentSpec("a", "export", ("p",), "reject", ())],
    )
    (name,) = compiled.assignments["export"][0]
    assert name.startswith("p.") and compiled.assignments["export"][1] == "reject"
    assert compiled.assignments["import"] == ((), "accept")
    assert compiled.policies[name].statements[0].statement.conditions.neighbor_set is None


def test_scoped_attachment_matches_only_its_neighbors() -> None:
    compiled = compile_router_policy(
        asn=65001,
        sets=[],
        policies={"p": [ACCEPT_NH_SELF]},
        attachments=[AttachmentSpec("to-i1", "export", ("p",), "reject", ("198.18.2.2",))],
    )
    names, default = compiled.assignments["export"]
    assert default == "accept"  # the reject is for the scoped neighbors only
    assert len(names) == 2 and names[0].startswith("to-i1.p.")
    assert names[1].startswith("to-i1.default.")
    for name in names:
        for statement in compiled.policies[name].statements:
            ref = statement.statement.conditions.neighbor_set
            assert ref is not None
            assert compiled.sets[ref.name].members == ("198.18.2.2",)
    final = compiled.policies[names[1]].statements[0].statement
    assert final.actions.disposition == "reject"


def test_scope_intersects_and_inverts_the_statements_own_neighbor_set() -> None:
    sets = [SetSpec("ups", SetType.NEIGHBOR, ("198.18.1.0/24",))]
    policies = {
        "p": [
            _st({"name": "in", "conditions": {"neighbor_set": "ups"}}),
            _st(
                {"name": "out", "conditions": {"neighbor_set": {"name": "ups", "match": "invert"}}}
            ),
        ]
    }
    compiled = compile_router_policy(
        asn=65001,
        sets=sets,
        policies=policies,
        attachments=[AttachmentSpec("a", "import", ("p",), "none", ("198.18.1.1", "198.18.2.1"))],
    )
    (name,) = compiled.assignments["import"][0]
    members = {
        s.name.rsplit(".", 1)[-1]: compiled.sets[s.statement.conditions.neighbor_set.name].members  # type: ignore[union-attr]
        for s in compiled.policies[name].statements
    }
    assert members == {"in": ("198.18.1.1",), "out": ("198.18.2.1",)}


def test_statement_matching_no_scoped_neighbor_is_dropped() -> None:
    compiled = compile_router_policy(
        asn=65001,
        sets=[SetSpec("ups", SetType.NEIGHBOR, ("198.18.9.9",))],
        policies={"p": [_st({"name": "x", "conditions": {"neighbor_set": "ups"}})]},
        attachments=[AttachmentSpec("a", "import", ("p",), "none", ("198.18.1.1",))],
    )
    assert compiled.assignments["import"] == ((), "accept")


def test_names_follow_content_and_own_as_is_resolved() -> None:
    prepend = _st({"name": "s1", "actions": {"as_path_prepend": {"times": 2}}})
    one = compile_router_policy(
        asn=65001,
        sets=[],
        policies={"p": [prepend]},
        attachments=[AttachmentSpec("a", "export", ("p",), "none", ())],
    )
    other = compile_router_policy(
        asn=65002,
        sets=[],
        policies={"p": [prepend]},
        attachments=[AttachmentSpec("a", "export", ("p",), "none", ())],
    )
    (name_one,) = one.assignments["export"][0]
    (name_other,) = other.assignments["export"][0]
    assert name_one != name_other  # different AS: different content
    action = one.policies[name_one].statements[0].statement.actions.as_path_prepend
    assert action is not None and action.asn == 65001


def test_set_change_renames_the_policies_using_it() -> None:
    policies = {"p": [_st({"name": "s", "conditions": {"prefix_set": "far"}})]}
    attach = [AttachmentSpec("a", "import", ("p",), "none", ())]
    before = compile_router_policy(
        asn=1,
        sets=[SetSpec("far", SetType.PREFIX, ({"prefix": "203.0.113.0/24"},))],
        policies=policies,
        attachments=attach,
    )
    after = compile_router_policy(
        asn=1,
        sets=[SetSpec("far", SetType.PREFIX, ({"prefix": "198.51.100.0/24"},))],
        policies=policies,
        attachments=attach,
    )
    assert before.assignments["import"] != after.assignments["import"]


def test_members_in_gobgpd_spelling() -> None:
    prefixes = check_members(
        SetType.PREFIX, ["198.18.0.0/16", {"prefix": "203.0.113.0/24", "ge": 25}]
    )
    assert gobgp_members(SetSpec("p", SetType.PREFIX, tuple(prefixes))) == (
        ("198.18.0.0/16", 16, 16),
        ("203.0.113.0/24", 25, 32),
    )
    assert gobgp_members(SetSpec("n", SetType.NEIGHBOR, ("198.18.0.1", "2001:db8::/64"))) == (
        "198.18.0.1/32",
        "2001:db8::/64",
    )
    assert gobgp_members(SetSpec("c", SetType.COMMUNITY, ("65001:100", "no-export", "^1:.*$"))) == (
        "^1:.*$",
        "^65001:100$",
        "^65535:65281$",
    )


@pytest.mark.parametrize(
    ("text", "actions"),
    [
        ("next-hop self", {"next_hop": "self"}),
        ("next-hop 198.18.0.1", {"next_hop": "198.18.0.1"}),
        ("local-pref 200", {"local_pref": 200}),
        ("med +5", {"med": {"add": 5}}),
        ("as-prepend 65001 3", {"as_path_prepend": {"asn": 65001, "times": 3}}),
        ("community add 65001:1,65001:2", {"communities": {"add": ["65001:1", "65001:2"]}}),
        ("none", {}),
    ],
)
def test_policyinfo_actions(text: str, actions: dict[str, Any]) -> None:
    assert parse_statement_action(text) == actions


def test_policyinfo_unknown_action_lists_the_forms() -> None:
    with pytest.raises(ValueError, match="next-hop self"):
        parse_statement_action("set everything")
