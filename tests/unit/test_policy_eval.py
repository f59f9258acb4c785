"""Running a compiled router policy on a path as gobgpd 3.10 would
(sdwan.domain.policy_eval): conditions, actions, dispositions and defaults."""

from __future__ import annotations

from sdwan.domain.policy import SetType
from sdwan.domain.policy_compile import SetSpec
from sdwan.domain.policy_eval import Session, evaluate
from tests.support.policy_eval import UPLINK, compiled, route
from tests.support.rib import as_path_from_text

OTHER = Session("198.18.22.22", local_address="198.18.22.1")


def test_local_pref_only_for_the_named_neighbor_and_then_the_default() -> None:
    policy = compiled(
        [{"actions": {"local_pref": 300}}], neighbors=("198.18.11.11",), default="accept"
    )
    got = evaluate(policy, "import", route(), UPLINK)
    assert got.attrs is not None and got.attrs.local_pref == 300
    assert got.decided_by.endswith(".default")  # the attachment's own default, scoped
    rejecting = compiled(
        [{"actions": {"local_pref": 300}}], neighbors=("198.18.11.11",), default="reject"
    )
    assert evaluate(rejecting, "import", route(), UPLINK).attrs is None
    other = evaluate(policy, "import", route(), OTHER)
    assert other.attrs is not None and other.attrs.local_pref is None and not other.applied


def test_prefix_set_matches_through_its_longest_member_only() -> None:
    """gobgpd looks up the longest member prefix containing the route, then checks
    that member's lengths: a shorter member's wider range does not help."""
    sets = (
        SetSpec(
            "far",
            SetType.PREFIX,
            ({"prefix": "203.0.0.0/16", "le": 32}, {"prefix": "203.0.113.0/24"}),
        ),
    )
    policy = compiled(
        [{"conditions": {"prefix_set": "far"}, "actions": {"disposition": "reject"}}], sets=sets
    )
    assert evaluate(policy, "import", route("203.0.113.0/24"), UPLINK).attrs is None
    assert evaluate(policy, "import", route("203.0.7.0/24"), UPLINK).attrs is None
    assert evaluate(policy, "import", route("203.0.113.128/25"), UPLINK).attrs is not None


def test_as_path_sets_use_gobgpds_delimiter_and_fast_forms() -> None:
    sets = (SetSpec("via-65010", SetType.AS_PATH, ("_65010_",)),)
    statements = [
        {"conditions": {"as_path_set": "via-65010"}, "actions": {"disposition": "reject"}}
    ]
    policy = compiled(statements, sets=sets)
    assert evaluate(policy, "import", route(), UPLINK).attrs is None
    other = route(as_path=as_path_from_text("65000 650100"))
    assert evaluate(policy, "import", other, UPLINK).attrs is not None
    regex = compiled(statements, sets=(SetSpec("via-65010", SetType.AS_PATH, ("^65000_65010$",)),))
    assert evaluate(regex, "import", route(), UPLINK).attrs is None
    assert evaluate(regex, "import", other, UPLINK).attrs is not None


def test_community_sets_and_actions() -> None:
    sets = (SetSpec("tagged", SetType.COMMUNITY, ("no-export", "65000:1.*")),)
    policy = compiled(
        [
            {
                "conditions": {"community_set": {"name": "tagged", "match": "any"}},
                "actions": {"communities": {"remove": ["65000:100"]}, "disposition": "accept"},
            },
            {"actions": {"disposition": "reject"}},
        ],
        sets=sets,
    )
    got = evaluate(policy, "import", route(communities=("65000:100", "65001:5")), UPLINK)
    assert got.attrs is not None and got.attrs.communities == ("65001:5",)
    assert evaluate(policy, "import", route(communities=("no-export",)), UPLINK).attrs
    assert evaluate(policy, "import", route(communities=("65001:5",)), UPLINK).attrs is None


def test_export_actions_prepend_med_and_next_hop_self() -> None:
    policy = compiled(
        [
            {
                "actions": {
                    "as_path_prepend": {"asn": "own", "times": 2},
                    "med": {"add": 10},
                    "next_hop": "self",
                }
            }
        ],
        direction="export",
        neighbors=("198.18.11.11",),
    )
    got = evaluate(policy, "export", route(med=5), UPLINK)
    assert got.attrs is not None
    assert got.attrs.as_path_text() == "65001 65001 65000 65010"
    assert got.attrs.med == 15 and got.attrs.next_hop == "198.18.11.1"
    untouched = evaluate(policy, "export", route(med=5), OTHER).attrs
    assert untouched is not None and untouched.med == 5


def test_the_first_deciding_statement_ends_evaluation() -> None:
    policy = compiled(
        [
            {"actions": {"local_pref": 150}},  # next: goes on
            {"actions": {"disposition": "accept", "local_pref": 200}},
            {"actions": {"local_pref": 999}},
        ]
    )
    got = evaluate(policy, "import", route(), UPLINK)
    assert got.attrs is not None and got.attrs.local_pref == 200 and len(got.applied) == 2
