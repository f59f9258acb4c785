"""The API accepts exactly the regular expressions gobgpd accepts: every member below is
sent to a real gobgpd 3.10 as an AS-path, a community and a large-community set
(AddDefinedSet), and to the API's own check of set members; the two must agree on
every one. The list holds what separates RE2 in Go 1.19 from Python's re and from RE2
in C++ (lookarounds, backreferences, ``\\C``, ``(?<name>``, repetition counts past
1000 or past 2^31, leading zeros, classes, quoting), plus what gobgpd compiles
differently per kind (single-AS forms, community numbers and names, anchoring)."""

from __future__ import annotations

import grpc

from sdwan.domain.policy import SetType, check_members
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory

MEMBERS = [
    "^((((([0-9 ]+)+)+)+)+)+!",
    "(?=x)",
    "^65000(?!_)",
    "(?<=a)b",
    "(?<!a)b",
    "(a)\\1",
    "\\8",
    "\\0",
    "\\C",
    "[\\C]",
    "\\\\C",
    "(?P<n>a)",
    "(?<n>a)",
    "[(?<n>a)]",
    "\\Q(?<n>\\E",
    "[[:alpha:](?<x>a)]",
    "(?P<>a)",
    "\\Z",
    "\\z",
    "\\A",
    "[[:alpha:]]",
    "[[:foo:]]",
    "\\pL",
    "\\p{Greek}",
    "\\p{Foo}",
    "a++",
    "a**",
    "a*?",
    "a{2}{3}",
    "x{1000}",
    "x{1001}",
    "x{2,1}",
    "a{,5}",
    "a{ 5000 }",
    "a{99999999999}",
    "a{1000,99999999999}",
    "a{00000001001}",
    "a{010}",
    "(a{1000}){1000}",
    "a{1000}b{1000}c{1000}",
    "(?i)abc",
    "(?U)a+",
    "(?smiU)a",
    "(?x)a b",
    "(?#comment)",
    "\\Q.\\E",
    "[z-a]",
    "[a-\\d]",
    "[]a]",
    "[^]a]",
    "\\x{10FFFF}",
    "\\x{110000}",
    "\\e",
    "\\cA",
    "\\u0041",
    "\\N{DIGIT ONE}",
    "a|*",
    "()",
    "$^",
    "(",
    "_65001_",
    "^65001_",
    "_65001$",
    "^65001$",
    "^99999999999$",
    "65536",
    "NO_EXPORT",
    "1:2:3",
    "x1:2:3",
    "65000:.*",
    "^65000:1[0-9]+$",
]
KINDS = {
    SetType.AS_PATH: pb.AS_PATH,
    SetType.COMMUNITY: pb.COMMUNITY,
    SetType.LARGE_COMMUNITY: pb.LARGE_COMMUNITY,
}


def _ours(set_type: SetType, member: str) -> bool:
    try:
        check_members(set_type, [member])
    except ValueError:
        return False
    return True


def test_the_api_accepts_exactly_what_gobgpd_accepts(gobgpd_factory: GobgpdFactory) -> None:
    daemon = gobgpd_factory("re")
    stub = daemon.grpc_stub()
    stub.StartBgp(
        pb.StartBgpRequest(
            **{"global": pb.Global(asn=65001, router_id="192.0.2.1", listen_port=-1)}
        ),
        timeout=10,
    )
    disagreements = []
    for index, member in enumerate(MEMBERS):
        for set_type, defined_type in KINDS.items():
            request = pb.AddDefinedSetRequest(
                defined_set=pb.DefinedSet(
                    defined_type=defined_type, name=f"s{index}", list=[member]
                )
            )
            try:
                stub.AddDefinedSet(request, timeout=10)
                gobgpd = True
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNKNOWN, exc  # gobgpd said no
                gobgpd = False
            if _ours(set_type, member) != gobgpd:
                disagreements.append(
                    (set_type.value, member, "gobgpd accepts" if gobgpd else "gobgpd refuses")
                )
    assert not disagreements, disagreements
    refused = sum(not _ours(SetType.AS_PATH, m) for m in MEMBERS)
    assert 20 < refused < len(MEMBERS) - 20  # both kinds well represented
