"""`sdwan probe-agent` in real namespaces: two agents across two providers.

    a ──e1── x1 ──── b   (b's agent reflects; 198.18.100.1 on its loopback)
     └─e2── x2 ─────┘

``a`` measures uplink u1 (neighbor x1) and u2 (neighbor x2), both to b's
198.18.100.1, while a's main table routes 198.18.100.1 via x2. Impairments are
nftables rules on the providers' forwarding paths.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sdwan.domain.quality import LONG_WINDOW_S
from sdwan.lab import Lab, Namespace, wait_for
from sdwan.lab.probe_agent import ProbeAgentProcess
from sdwan.probe.client import ProbeClientError
from sdwan.probe.routing import RULE_PRIORITY
from tests.support.fib_status import StubFibStatus

TARGET = "198.18.100.1"
GOLD = {"name": "gold", "loss_pct": 2.0, "latency_ms": 50.0, "jitter_ms": 10.0}


def uplink(ident: str, neighbor: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": ident,
        "name": f"a/{ident}",
        "neighbor": neighbor,
        "target": TARGET,
        "classes": [GOLD],
    }
    body.update(changes)
    return body


U1 = uplink("u1", "198.18.101.2")
U2 = uplink("u2", "198.18.102.2")


@dataclass
class Net:
    prefix: str
    a: Namespace
    x1: Namespace
    x2: Namespace
    b: Namespace
    agent: ProbeAgentProcess
    reflector: ProbeAgentProcess
    fib: StubFibStatus

    def nft(self, ns: Namespace, *rules: str, hook: str = "forward") -> None:
        """Replace ns's table of impairments with ``rules`` (on packets it forwards, or
        with ``hook="input"`` on packets addressed to it)."""
        ns.run(["nft", "delete table inet probetest"], check=False)
        lines = "\n".join(rules)
        ns.run(
            ["nft", "-f", "-"],
            input=f"table inet probetest {{\n chain {hook} {{\n"
            f"  type filter hook {hook} priority 0; policy accept;\n{lines}\n }}\n}}\n",
        )

    def counted(self, ns: Namespace) -> int:
        """Packets the 'counter' rule of ns's table counted."""
        out = ns.run(["nft", "list table inet probetest"]).stdout
        words = out.split()
        return int(words[words.index("packets") + 1])

    def uplinks(self) -> dict[str, Any]:
        found: dict[str, Any] = self.agent.quality()["uplinks"]
        return found

    def rules(self) -> list[str]:
        lines = self.a.ip("rule", "show").stdout.splitlines()
        return [line for line in lines if line.startswith(f"{RULE_PRIORITY}:")]

    def tables(self) -> str:
        return self.a.ip("route", "show", "table", "all", "proto", "185").stdout


@pytest.fixture
def net(lab: Lab, tmp_path: Path) -> Iterator[Net]:
    a, x1, x2, b = (lab.namespace(n) for n in ("a", "x1", "x2", "b"))
    lab.link(a, "e1", x1, "x1a", addrs_a=["198.18.101.1/30"], addrs_b=["198.18.101.2/30"])
    lab.link(a, "e2", x2, "x2a", addrs_a=["198.18.102.1/30"], addrs_b=["198.18.102.2/30"])
    lab.link(x1, "x1b", b, "b1", addrs_a=["198.18.103.1/30"], addrs_b=["198.18.103.2/30"])
    lab.link(x2, "x2b", b, "b2", addrs_a=["198.18.104.1/30"], addrs_b=["198.18.104.2/30"])
    b.ip("addr", "add", f"{TARGET}/32", "dev", "lo")
    a.ip("route", "add", f"{TARGET}/32", "via", "198.18.102.2")  # main table: via x2
    a.ip("route", "add", "198.18.103.0/30", "via", "198.18.101.2")  # x1's far side
    x1.ip("route", "add", f"{TARGET}/32", "via", "198.18.103.2")
    x2.ip("route", "add", f"{TARGET}/32", "via", "198.18.104.2")
    b.ip("route", "add", "198.18.101.0/30", "via", "198.18.103.1")
    b.ip("route", "add", "198.18.102.0/30", "via", "198.18.104.1")
    a.run(["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"])
    fib = StubFibStatus(str(tmp_path / "a.fib"))
    reflector = ProbeAgentProcess(b, tmp_path / "b.probe", tmp_path / "b.log")
    agent = ProbeAgentProcess(
        a,
        tmp_path / "a.probe",
        tmp_path / "a.log",
        fib=f"unix://{tmp_path}/a.fib",
        extra=["--up-hold", "1", "--summary-interval", "0.5"],
    )
    try:
        reflector.start()
        agent.start()
        yield Net(lab.prefix, a, x1, x2, b, agent, reflector, fib)
    finally:
        agent.stop()
        reflector.stop()
        fib.close()


def wait_state(net: Net, ident: str, state: str, timeout: float = 20) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        entry: dict[str, Any] = net.uplinks().get(ident, {})
        return entry if entry.get("state") == state else None

    return wait_for(reached, timeout=timeout, what=f"{ident} {state}")


def test_probes_are_reflected_and_leave_through_their_own_uplink(net: Net) -> None:
    net.nft(net.x1, "udp dport 862 counter")
    net.nft(net.x2, "udp dport 862 counter")
    body = {"generation": 1, "uplinks": [U1, U2]}
    assert net.agent.put_config(body)["generation"] == 1
    assert net.agent.config() == net.agent.put_config(body)  # defaults filled in, stable
    for ident in ("u1", "u2"):
        entry = wait_state(net, ident, "up")
        assert entry["name"] == f"a/{ident}"
    wait_for(lambda: net.uplinks()["u1"]["short"]["answered"] >= 300, timeout=20, what="answers")
    short = net.uplinks()["u1"]["short"]
    # (a loaded machine may delay a reflector past the timeout now and then)
    assert short["loss_pct"] < 1.0 and 0 < short["latency_ms"] < 50
    # both providers carry probes, though the main table sends everything to x2
    assert net.counted(net.x1) > 300 and net.counted(net.x2) > 300
    assert net.reflector.quality()["reflector"]["answered"] > 600
    # x2 silently drops everything: only u2 goes dead, u1 keeps answering
    net.nft(net.x2, "drop")
    wait_state(net, "u2", "dead")
    before = net.uplinks()["u1"]["short"]
    time.sleep(0.5)  # a window's worth of probes keeps flowing through x1
    after = net.uplinks()["u1"]
    assert after["state"] == "up" and after["short"]["loss_pct"] < 1.0
    assert after["short"]["answered"] >= before["answered"]
    wait_for(lambda: net.fib.avoided() == ["198.18.102.2"], timeout=5, what="u2 avoided")


def test_an_uplink_without_a_target_reports_its_own_address_and_sends_nothing(
    net: Net,
) -> None:
    """The orchestrator learns the far agents' addresses (its default targets) from
    what each agent reports as its own on the uplink."""
    net.nft(net.x1, "udp dport 862 counter")
    net.agent.put_config({"generation": 1, "uplinks": [uplink("u1", "198.18.101.2", target=None)]})
    entry = wait_for(
        lambda: (u := net.uplinks().get("u1")) and u.get("local_address") and u,
        timeout=10,
        what="u1's local address",
    )
    assert entry["local_address"] == "198.18.101.1"
    assert entry["interface"] == f"{net.prefix}-e1"
    assert entry["state"] == "unknown" and entry["problem"] == "no target to probe yet"
    assert net.counted(net.x1) == 0  # not a probe sent
    assert not net.rules()  # nor a rule installed for it
    # with a target, the same uplink is measured
    net.agent.put_config({"generation": 2, "uplinks": [U1]})
    assert wait_state(net, "u1", "up")["local_address"] == "198.18.101.1"


def test_loss_is_measured_as_nftables_drops_it(net: Net) -> None:
    net.agent.put_config({"generation": 1, "uplinks": [U1]})
    wait_state(net, "u1", "up")
    # one probe in five dropped on its way out (answers untouched)
    net.nft(net.x1, f'iifname "{net.prefix}-x1a" numgen random mod 100 < 20 drop')
    entry = wait_for(
        lambda: (u := net.uplinks()["u1"])["classes"]["gold"]["state"] == "violated" and u,
        timeout=10,
        what="the class violated",
    )
    assert entry["classes"]["gold"]["reason"].startswith("loss ")
    wait_for(lambda: net.uplinks()["u1"]["long"]["sent"] >= 3000, timeout=30, what="a long window")
    time.sleep(LONG_WINDOW_S + 0.5)  # measuring: the long window then holds impaired probes only
    long = net.uplinks()["u1"]["long"]
    # 20 % of ~3370 probes: five standard deviations are 3.5 points
    assert 16.5 < long["loss_pct"] < 23.5, long
    assert net.uplinks()["u1"]["state"] == "up"  # lossy, not dead


def test_a_blackout_is_dead_fast_and_up_again_and_the_fib_agent_is_told(net: Net) -> None:
    net.agent.put_config({"generation": 1, "uplinks": [U1, U2]})
    wait_for(
        lambda: all(u["classes"]["gold"]["state"] == "met" for u in net.uplinks().values()),
        timeout=20,
        what="both uplinks within gold",
    )  # nothing changes any more until the blackout
    wait_for(lambda: net.fib.avoided() == [], timeout=10, what="an empty avoid set")
    asyncio.run(_blackout_and_back(net))
    wait_for(lambda: net.fib.avoided() == [], timeout=5, what="u1 no longer avoided")
    count = len(net.fib.received)
    wait_for(lambda: len(net.fib.received) >= count + 2, timeout=5, what="re-sent every second")


async def _blackout_and_back(net: Net) -> None:
    lines = net.agent.client().stream(timeout=10)
    first = await anext(lines)
    assert first["kind"] == "snapshot" and set(first["uplinks"]) == {"u1", "u2"}
    net.nft(net.x1, "drop")
    blackout = time.monotonic()
    changes = []  # the loss test fires first (0.33 s), then the dead run (0.39 s)
    async for line in lines:
        if line["kind"] == "change":
            changes.append(line)
            if line["uplinks"].get("u1", {}).get("state") == "dead":
                break
    seen = time.monotonic() - blackout
    assert all(set(c["uplinks"]) == {"u1"} for c in changes)  # only what changed
    assert changes[0]["uplinks"]["u1"]["classes"]["gold"]["state"] == "violated"
    assert seen < 2.0  # the agent's own time is 0.39 s; this machine is shared
    wait_for(lambda: net.fib.avoided() == ["198.18.101.2"], timeout=5, what="avoid u1")
    net.nft(net.x1)  # the provider is back
    back = await anext(line async for line in lines if line["kind"] == "change")
    assert back["uplinks"]["u1"]["state"] == "up"  # after the hold (1 s here)
    await lines.aclose()


def test_a_latency_below_the_timeout_is_latency_not_dead(net: Net) -> None:
    """x1 delays nothing, but the class asks for less than the lab's RTT: a latency
    violation, the uplink up (a relay with real delay is the lab impairer's own test)."""
    tight = {**GOLD, "latency_ms": 0.0001, "name": "tight"}
    tightly = uplink("u1", "198.18.101.2", classes=[tight])
    net.agent.put_config({"generation": 1, "uplinks": [tightly]})
    entry = wait_for(
        lambda: (u := net.uplinks()["u1"])["classes"]["tight"]["state"] == "violated" and u,
        timeout=10,
        what="latency violated",
    )
    assert entry["classes"]["tight"]["reason"].startswith("latency ")
    assert entry["state"] == "up"


def test_icmp_echo_measures_a_plain_host(net: Net) -> None:
    # x1's far address: a namespace without an agent, answering pings from its kernel
    host = uplink("ping", "198.18.101.2", method="icmp", target="198.18.103.1")
    net.agent.put_config({"generation": 2, "uplinks": [host]})
    wait_state(net, "ping", "up")
    wait_for(
        lambda: net.uplinks()["ping"]["short"]["answered"] >= 200, timeout=20, what="echo replies"
    )
    short = net.uplinks()["ping"]["short"]
    assert short["loss_pct"] < 1.0 and short["latency_ms"] > 0
    net.nft(net.x1, "icmp type echo-request drop", hook="input")
    wait_state(net, "ping", "dead")


def test_configuration_errors_and_problems(net: Net) -> None:
    with pytest.raises(ProbeClientError) as caught:
        net.agent.put_config({"uplinks": [uplink("u1", "not-an-address")]})
    assert (caught.value.status, caught.value.body["field"]) == (422, "uplinks[0].neighbor")
    stray = uplink("far", "198.18.199.2")  # on no connected subnet of a
    net.agent.put_config({"generation": 3, "uplinks": [stray]})
    entry = wait_state(net, "far", "unknown")
    assert "no connected subnet" in entry["problem"]
    assert net.rules() == []  # nothing was routed for it


def test_rules_and_tables_follow_the_configuration_and_go_with_the_agent(net: Net) -> None:
    net.agent.put_config({"generation": 1, "uplinks": [U1, U2]})
    wait_state(net, "u2", "up")
    assert len(net.rules()) == 2
    assert "198.18.100.1 via 198.18.101.2" in net.tables()
    net.agent.put_config({"generation": 2, "uplinks": [U2]})
    assert len(net.rules()) == 1
    assert "via 198.18.101.2" not in net.tables()
    net.agent.stop()  # SIGTERM
    assert net.rules() == [] and net.tables().strip() == ""
    assert net.fib.avoided() == []  # the agent withdrew its avoid set as it left


def test_a_killed_agents_rules_are_removed_by_the_next(net: Net, tmp_path: Path) -> None:
    net.agent.put_config({"generation": 1, "uplinks": [U1]})
    wait_state(net, "u1", "up")
    assert net.agent.proc is not None
    net.agent.proc.kill()
    net.agent.proc.wait(timeout=5)
    assert len(net.rules()) == 1  # left behind
    net.agent.start()
    assert net.rules() == []
    assert net.agent.config()["generation"] == 0


def test_ipv6_probes_udp_and_icmp(lab: Lab, tmp_path: Path) -> None:
    a, b = lab.namespace("a6"), lab.namespace("b6")
    lab.link(a, "v6a", b, "v6b", addrs_a=["2001:db8:105::1/64"], addrs_b=["2001:db8:105::2/64"])
    b.ip("-6", "addr", "add", "2001:db8:106::1/128", "dev", "lo")
    reflector = ProbeAgentProcess(b, tmp_path / "b6.probe", tmp_path / "b6.log")
    agent = ProbeAgentProcess(a, tmp_path / "a6.probe", tmp_path / "a6.log")
    try:
        reflector.start()
        agent.start()
        neighbor = "2001:db8:105::2"
        far = "2001:db8:106::1"  # behind the neighbor: a's main table has no route to it
        config = {
            "generation": 1,
            "uplinks": [
                uplink("udp6", neighbor, target=far),
                uplink("icmp6", neighbor, target=neighbor, method="icmp"),
            ],
        }
        agent.put_config(config)

        def answered() -> bool:
            uplinks = agent.quality()["uplinks"]
            return all(
                u["state"] == "up" and u["short"]["answered"] > 100 for u in uplinks.values()
            )

        wait_for(answered, timeout=30, what="both IPv6 uplinks answered")
        rules = a.ip("-6", "rule", "show").stdout
        assert f"{RULE_PRIORITY}:" in rules
    finally:
        agent.stop()
        reflector.stop()
    assert f"{RULE_PRIORITY}:" not in a.ip("-6", "rule", "show").stdout
