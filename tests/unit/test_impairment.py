"""The pure parts of the lab's link impairments: the values a person may give, the
nf_tables rules built from them and their netlink encoding, where each direction is
enforced, the relay's delay line and its queue messages. The real thing (rules in
namespaces, the relay, ping, BGP) is in tests/integration/test_lab_impair.py."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdwan.cli.main import app
from sdwan.lab import nfqueue
from sdwan.lab.impair import relay_sides, sides
from sdwan.lab.impairment import Impairment, ImpairmentError, parse_target
from sdwan.lab.netlink import NLA_F_NESTED, attr, be32, iter_attrs, iter_messages, message
from sdwan.lab.nftrules import (
    NFT_MSG_DELCHAIN,
    NFT_MSG_DELRULE,
    NFT_MSG_NEWCHAIN,
    NFT_MSG_NEWRULE,
    NFT_MSG_NEWTABLE,
    Rule,
    Side,
    relay_queues,
    replace_rules,
    rules_for,
)
from sdwan.lab.relay import DelayLine
from sdwan.lab.topology import load_topology

# -- values -------------------------------------------------------------------


@pytest.mark.parametrize("loss", [0, 0.01, 0.5, 1, 2.5, 5, 99.99, 100])
def test_loss_in_steps_of_a_hundredth(loss: float) -> None:
    assert Impairment(loss_pct=loss).loss_steps == round(loss * 100)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"loss_pct": 0.005}, "steps of 0.01"),
        ({"loss_pct": 100.5}, "loss: give 0 to 100 %"),
        ({"loss_pct": -1}, "loss: give 0 to 100 %"),
        ({"loss_pct": float("nan")}, "loss: give 0 to 100 %"),
        ({"loss_pct": "five"}, "loss: expected a number"),
        ({"delay_ms": 20000}, "delay: give 0 to 10000 ms"),
        ({"delay_ms": 10, "jitter_ms": 20}, "must not exceed the delay"),
        ({"jitter_ms": 5}, "must not exceed the delay"),
        ({"blackhole": True, "loss_pct": 5}, "loss or blackhole, not both"),
        ({"delay_ms": 10, "include_bgp": True}, "include_bgp only changes loss"),
        ({"loss_pct": 1, "direction": "up"}, "direction: give one of out, in, both"),
    ],
)
def test_bad_values_say_what_to_give(values: dict[str, object], message: str) -> None:
    with pytest.raises(ImpairmentError, match=message):
        Impairment(**values)  # type: ignore[arg-type]


def test_descriptions_and_json_round_trip() -> None:
    both = Impairment(loss_pct=5, delay_ms=150, jitter_ms=10)
    assert both.describe() == "loss 5 %, delay 150 ± 10 ms (both directions, BGP spared)"
    hole = Impairment(blackhole=True, direction="out", include_bgp=True)
    assert hole.describe() == "blackhole (out only, BGP dropped too)"
    assert Impairment().describe() == "nothing (both directions)"
    assert Impairment.from_json(both.to_json()) == both
    assert Impairment.from_json({"delay_ms": 5, "unknown": 1}) == Impairment(delay_ms=5)


def test_targets() -> None:
    assert parse_target("r1:e0") == ("r1", "e0")
    assert parse_target("tk:lab-mpls") == ("tk", "lab-mpls")
    for bad in ("r1", "r1:", ":e0", "R1:e0", "r1:e0:x", "r1:a-very-long-interface"):
        with pytest.raises(ImpairmentError, match="NODE:IFNAME"):
            parse_target(bad)


# -- rules --------------------------------------------------------------------


def texts(rules: list[Rule]) -> list[str]:
    return [f"{rule.chain}: {rule.text()}" for rule in rules]


def test_loss_spares_neighbour_discovery_and_bgp() -> None:
    rules = rules_for(Side("lab-r1", "out", "lab-e0", "drop"), Impairment(loss_pct=5))
    assert texts(rules) == [
        'out_drop: oifname "lab-e0" icmpv6 type 133-137 accept',
        'out_drop: oifname "lab-e0" tcp dport 179 accept',
        'out_drop: oifname "lab-e0" tcp sport 179 accept',
        'out_drop: oifname "lab-e0" numgen random mod 10000 < 500 counter drop',
    ]


def test_blackhole_including_bgp_on_arrival_with_delay() -> None:
    wanted = Impairment(blackhole=True, include_bgp=True, delay_ms=20)
    rules = rules_for(Side("lab-r1", "in", "lab-e0", "drop"), wanted)
    rules += rules_for(Side("lab-r1", "in", "lab-e0", "delay", queue=2301), wanted)
    assert texts(rules) == [
        'in_drop: iifname "lab-e0" icmpv6 type 133-137 accept',
        'in_drop: iifname "lab-e0" counter drop',
        'in_delay: iifname "lab-e0" counter jump relay_2301',
    ]


def test_delay_needs_a_queue() -> None:
    with pytest.raises(ValueError, match="relay's queue"):
        rules_for(Side("lab-r1", "out", "lab-e0", "delay"), Impairment(delay_ms=1))
    for part in ("drop", "delay"):
        assert rules_for(Side("lab-r1", "out", "lab-e0", part), Impairment()) == []
    assert rules_for(Side("lab-r1", "out", "lab-e0", "delay"), Impairment(loss_pct=1)) == []


def expressions(rule: Rule) -> list[tuple[str, dict[int, bytes]]]:
    """The rule's encoding read back: (expression name, its attributes)."""
    found = []
    for _, elem in iter_attrs(rule.encode()):
        parts = dict(iter_attrs(elem))
        found.append((parts[1].rstrip(b"\0").decode(), dict(iter_attrs(parts[2]))))
    return found


def test_random_loss_encoding() -> None:
    (rule,) = [r for r in rules_for(Side("n", "out", "lab-e0", "drop"), Impairment(loss_pct=0.5))][
        -1:
    ]
    names = [name for name, _ in expressions(rule)]
    assert names == ["meta", "cmp", "numgen", "byteorder", "cmp", "counter", "immediate"]
    _, numgen = expressions(rule)[2]
    assert struct.unpack(">I", numgen[2]) == (10000,)  # modulus
    assert struct.unpack(">I", numgen[3]) == (1,)  # random
    _, below = expressions(rule)[4]
    assert struct.unpack(">I", below[2]) == (2,)  # NFT_CMP_LT
    assert dict(iter_attrs(below[3]))[1] == struct.pack(">I", 50)  # big endian, after hton
    _, name = expressions(rule)[1]
    assert dict(iter_attrs(name[3]))[1] == b"lab-e0".ljust(16, b"\0")  # IFNAMSIZ


def test_nested_attributes_are_flagged_and_padded() -> None:
    assert attr(1, b"abc") == struct.pack("=HH", 7, 1) + b"abc\0"
    assert be32(2, -300) == struct.pack("=HH", 8, 2) + struct.pack(">i", -300)
    rule = rules_for(Side("n", "out", "x", "drop"), Impairment(blackhole=True))[-1]
    (kind, _), *_ = iter_attrs(rule.encode())  # iter_attrs strips the flag...
    assert struct.unpack_from("=H", rule.encode(), 2)[0] == 1 | NLA_F_NESTED  # ...it is there
    assert kind == 1


def test_replace_rules_keeps_relay_chains_made_once() -> None:
    rules = rules_for(Side("n", "out", "lab-e0", "delay", 2300), Impairment(delay_ms=5))
    batch = replace_rules(rules, relays={2300, 2302}, present={2302, 2304})
    what = [(kind, text) for kind, _, _, text in batch]
    assert what[0] == (NFT_MSG_NEWTABLE, "table sdwan_impair")
    base = [text for kind, text in what[1:9]]
    assert base == [
        f"{verb} {chain}"
        for chain in ("in_drop", "in_delay", "out_drop", "out_delay")
        for verb in ("chain", "flush chain")
    ]
    flushes = [dict(iter_attrs(attrs)) for kind, _, attrs, _ in batch if kind == NFT_MSG_DELRULE]
    # a flush names its chain (without it the kernel flushes every chain of the table)
    assert flushes[0] == {1: b"sdwan_impair\0", 2: b"in_drop\0"}
    assert what[9:] == [
        (NFT_MSG_NEWCHAIN, "chain relay_2300"),
        (NFT_MSG_NEWRULE, "rule queue num 2300 bypass"),
        (NFT_MSG_DELRULE, "flush chain relay_2304"),
        (NFT_MSG_DELCHAIN, "delete chain relay_2304"),
        (NFT_MSG_NEWRULE, 'rule oifname "lab-e0" counter jump relay_2300'),
    ]


def test_relay_queues_read_from_a_chain_dump() -> None:
    def chain(table: str, name: str) -> bytes:
        attrs = attr(1, table.encode() + b"\0") + attr(3, name.encode() + b"\0")
        return message((10 << 8) | NFT_MSG_NEWCHAIN, 2, 7, 1, 0, attrs)

    dump = chain("sdwan_impair", "relay_2300") + chain("sdwan_impair", "out_drop")
    dump += chain("other", "relay_2302") + chain("sdwan_impair", "relay_x")
    assert relay_queues(iter_messages(dump)) == {2300}


# -- where each direction is enforced -----------------------------------------


def record(peer: bool, direction: str) -> dict[str, object]:
    return {
        "node": "r1",
        "namespace": "lab-r1",
        "interface": "lab-e0",
        "peer": {"node": "e1", "namespace": "lab-e1", "interface": "lab-e0"} if peer else None,
        "impairment": Impairment(delay_ms=5, direction=direction).to_json(),  # type: ignore[arg-type]
        "queues": [2300, 2301],
    }


def test_delayed_leaving_the_sender_dropped_reaching_the_receiver() -> None:
    out_delay = Side("lab-r1", "out", "lab-e0", "delay", 2300)
    in_delay = Side("lab-e1", "out", "lab-e0", "delay", 2301)  # e1 sends what r1 gets
    assert sides(record(True, "out")) == [out_delay, Side("lab-e1", "in", "lab-e0", "drop")]
    assert sides(record(True, "in")) == [in_delay, Side("lab-r1", "in", "lab-e0", "drop")]
    assert sides(record(True, "both")) == sides(record(True, "out")) + sides(record(True, "in"))
    assert relay_sides(record(True, "out")) == [out_delay, in_delay]
    # no far end (a link to a switch): everything on the node itself
    assert sides(record(False, "in")) == [
        Side("lab-r1", "in", "lab-e0", "delay", 2301),
        Side("lab-r1", "in", "lab-e0", "drop"),
    ]
    assert sides(record(False, "out")) == [
        Side("lab-r1", "out", "lab-e0", "delay", 2300),
        Side("lab-r1", "out", "lab-e0", "drop"),
    ]


def test_link_ends_known_except_at_switches(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "nodes:\n  r1: {kind: gobgp}\n  r2: {kind: gobgp}\n  sw: {kind: switch}\n"
        "links:\n"
        "  - a: {node: r1, addresses: [198.18.1.1/30]}\n"
        "    b: {node: r2, ifname: up, addresses: [198.18.1.2/30]}\n"
        "  - a: {node: r1, ifname: lan, addresses: [198.18.2.1/24]}\n"
        "    b: {node: sw}\n"
    )
    assert load_topology(tmp_path / "t.yaml").peers() == {"r1:e0": "r2:up", "r2:up": "r1:e0"}


# -- the relay ----------------------------------------------------------------


def test_delay_line_keeps_order_and_times() -> None:
    line = DelayLine(random.Random(7))
    line.set(delay_ms=100, jitter_ms=0)
    line.hold(1, now=10.0)
    line.hold(2, now=10.05)
    assert line.next_due() == pytest.approx(10.1)
    assert line.release(10.099) is None
    assert line.release(10.1) == 1
    assert line.release(10.2) == 2
    assert line.stats()["relayed"] == 2
    assert line.stats()["late_max_ms"] == pytest.approx(50.0)  # 2 left 50 ms late


def test_jitter_spreads_delays_but_never_reorders() -> None:
    line = DelayLine(random.Random(1))
    line.set(delay_ms=100, jitter_ms=30)
    for packet in range(400):
        line.hold(packet, now=packet * 0.2)  # spaced wider than the jitter
    waits = [due - packet * 0.2 for due, packet in line.held]
    assert min(waits) >= 0.07 and max(waits) <= 0.13
    assert max(waits) - min(waits) > 0.05
    assert sum(waits) / len(waits) == pytest.approx(0.1, abs=0.003)
    line = DelayLine(random.Random(1))
    line.set(delay_ms=100, jitter_ms=30)
    for packet in range(400):
        line.hold(packet, now=packet * 0.001)  # closer than the jitter: never overtaken
    dues = [due for due, _ in line.held]
    assert dues == sorted(dues)


def test_release_early_by_the_wake_up_lag_and_all_at_exit() -> None:
    line = DelayLine()
    line.set(delay_ms=10, jitter_ms=0)
    line.hold(5, now=0.0)
    line.hold(6, now=0.001)
    assert line.release(0.0098, early=0.0003) == 5  # due at 0.010, within the lag
    assert line.stats()["late_max_ms"] == pytest.approx(-0.2)
    assert line.release_all() == 6 and line.release_all() is None


def test_queue_messages() -> None:
    packet = attr(nfqueue.NFQA_PACKET_HDR, struct.pack(">IHB", 42, 0x0800, 3) + b"\0")
    data = message(nfqueue.PACKET, 0, 0, 2, 2300, packet)
    data += message(nfqueue.PACKET, 0, 0, 10, 2301, attr(9, b"xxxx") + packet)
    assert list(nfqueue.packets(data)) == [(2300, 42), (2301, 42)]
    verdict = next(iter_messages(nfqueue.verdict_batch(2300, 42, seq=5)))
    assert verdict.kind == nfqueue.VERDICT_BATCH and verdict.seq == 5
    assert struct.unpack_from(">H", verdict.payload, 2) == (2300,)
    assert dict(iter_attrs(verdict.payload, 4))[2] == struct.pack(">II", 1, 42)  # accept


# -- the command line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["r1:e0"], "nothing to impair"),
        (["r1:e0", "--clear", "--loss", "1"], "--clear takes no other"),
        (["r1", "--loss", "1"], "give NODE:IFNAME"),
        (["r1:e0", "--loss", "0.001"], "steps of 0.01"),
        (["r1:e0", "--delay", "5", "--jitter", "9"], "must not exceed the delay"),
    ],
)
def test_cli_rejects_before_touching_a_lab(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["lab", "impair", *args, "--lab-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert message in result.output
    assert list(tmp_path.iterdir()) == []
