"""Regular expressions as gobgpd has them (sdwan.domain.gobgp_regex): RE2, linear in
the text whatever the pattern; what gobgpd compiles for each kind of member; and the
budget that bounds one prediction's policy evaluation. Which patterns gobgpd itself
accepts is checked against a real gobgpd in tests/integration/test_regex_gobgpd.py."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sdwan.domain import gobgp_regex
from sdwan.domain.policy import SetType, check_members
from sdwan.domain.policy_compile import SetSpec
from sdwan.domain.policy_eval import Budget, WorkLimitExceeded, evaluate
from sdwan.domain.route import PathAttrs
from tests.support.policy_eval import UPLINK, compiled, route
from tests.support.rib import as_path_from_text

WORST = "^((((([0-9 ]+)+)+)+)+)+!"  # Python's re: minutes on "65000 65010 65020"


def _rejecting(set_type: SetType, members: tuple[Any, ...]) -> Any:
    field = {
        SetType.AS_PATH: "as_path_set",
        SetType.COMMUNITY: "community_set",
        SetType.LARGE_COMMUNITY: "large_community_set",
    }[set_type]
    return compiled(
        [{"conditions": {field: "s"}, "actions": {"disposition": "reject"}}],
        sets=(SetSpec("s", set_type, members),),
    )


def test_nested_quantifiers_take_linear_time() -> None:
    """The pattern that froze the server (a backtracking engine tries every way to
    split the path among the nested groups before it finds no "!") is a few
    microseconds here: 2000 evaluations on a three-AS path and a 200-AS path stay
    far inside the margin of a loaded machine (Python's re takes minutes for one)."""
    policy = _rejecting(SetType.AS_PATH, (WORST,))
    paths = [
        route(as_path=as_path_from_text("65000 65010 65020")),
        route(as_path=as_path_from_text(" ".join(str(64512 + i) for i in range(200)))),
    ]
    started = time.monotonic()
    for _ in range(1000):
        for path in paths:
            assert evaluate(policy, "import", path, UPLINK).attrs is not None
    assert time.monotonic() - started < 20


def test_as_path_members_mean_what_gobgpd_compiles() -> None:
    path = route(as_path=as_path_from_text("65000 65010 65020"))
    for member, matches in [
        ("_65010_", True),  # single-AS forms, no regex
        ("^65000_", True),
        ("_65020$", True),
        ("^65010$", False),
        ("^65000 65010", True),  # a regex: "_" is gobgpd's delimiter class
        ("_6501_", False),
        ("^6500_", False),
        ("65020$", True),
        ("^[0-9]+ 65010_", True),
    ]:
        rejected = evaluate(_rejecting(SetType.AS_PATH, (member,)), "import", path, UPLINK)
        assert (rejected.attrs is None) is matches, member


def test_community_members_mean_what_gobgpd_compiles() -> None:
    """ParseCommunityRegexp: a 32-bit number or a well-known name (any case, _ or -)
    is that one community; ``ASN:VALUE``-shaped text is anchored; the rest is a
    regex as written. Large communities are anchored when they contain A:B:C."""
    no_export = route(communities=("no-export",))
    tagged = route(communities=("65000:100",))
    cases: list[tuple[SetType, str, PathAttrs, bool]] = [
        (SetType.COMMUNITY, "NO_EXPORT", no_export, True),
        (SetType.COMMUNITY, "4294967041", no_export, True),  # 0xFFFFFF01
        (SetType.COMMUNITY, "65536", route(communities=("1:0",)), True),
        (SetType.COMMUNITY, "5000:10", tagged, False),  # anchored: not "65000:100"
        (SetType.COMMUNITY, "5000:.*", tagged, True),  # a regex: found inside
        (SetType.COMMUNITY, "^65000:1[0-9]+$", tagged, True),
        (SetType.LARGE_COMMUNITY, "1:2:3", route(large_communities=("11:2:3",)), False),
        (SetType.LARGE_COMMUNITY, "^65000:", route(large_communities=("65000:1:2",)), True),
    ]
    for set_type, member, path, matches in cases:
        got = evaluate(_rejecting(set_type, (member,)), "import", path, UPLINK)
        assert (got.attrs is None) is matches, member


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("^65000(?=_)", "no lookahead"),
        ("^65000(?!_)", "no lookahead"),
        ("(?<=65000 )65010", "no lookbehind"),
        ("(?<!65000 )65010", "no lookbehind"),
        ("(650[0-9]+) \\1", "no backreferences"),
        ("\\C", "\\C"),  # C++ RE2 takes it; Go does not
        ("(?<asn>[0-9]+)", "(?P<name>"),  # Go 1.19 (gobgpd 3.10's) does not
        ("a{1001}", "invalid repeat count: {1001} (at most 1000)"),
        ("a{99999999999}", "invalid repeat count"),  # C++ RE2 would take it as text
        ("a{2,1}", "the maximum is below the minimum"),
        ("(", "missing )"),
        ("\\Z", "invalid escape sequence"),
    ],
)
def test_what_gobgpd_refuses_is_refused_naming_the_member(member: str, why: str) -> None:
    for set_type in (SetType.AS_PATH, SetType.COMMUNITY, SetType.LARGE_COMMUNITY):
        with pytest.raises(ValueError) as raised:
            check_members(set_type, ["^65000_", member])
        message = str(raised.value)
        assert message.startswith("members[1]: ") and "gobgpd" in message, message
        assert why in message, message


def test_what_gobgpd_accepts_is_accepted() -> None:
    members: list[object] = [
        WORST,
        "(?P<asn>[0-9]+)",
        "[[:digit:]]+ \\pN",
        "[(?<x]",  # in a class: characters
        "\\Q(?<x>\\E",  # quoted: characters
        "a{1000}",
        "a{ 5000 }",  # not a repetition in Go: text
        "^65000_",
    ]
    assert check_members(SetType.AS_PATH, members) == members


def test_a_budget_bounds_the_evaluation() -> None:
    """Each statement looked at costs one unit plus one per member of its sets."""
    policy = _rejecting(SetType.AS_PATH, tuple(f"_{64512 + i}_" for i in range(9)))
    budget = Budget(limit=25)
    for _ in range(2):
        evaluate(policy, "import", route(), UPLINK, budget)
    assert budget.spent == 20
    with pytest.raises(WorkLimitExceeded) as raised:
        evaluate(policy, "import", route(), UPLINK, budget)
    assert "more than 25 policy evaluation steps" in str(raised.value)


def test_a_stored_member_re2_cannot_compile_matches_nothing() -> None:
    """Accepted by an older validation, such a member is refused by gobgpd, where it
    matches nothing; the prediction says the same instead of failing."""
    assert gobgp_regex.as_path_pattern("^65000(?=_)").search("65000 65010") is None
