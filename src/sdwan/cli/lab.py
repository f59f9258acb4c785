"""`sdwan lab up|down|status|exec|impair` and `sdwan fib-agent` (local commands: no API)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sdwan.cli.client import get_client
from sdwan.cli.errors import CliError
from sdwan.cli.progress import Progress

if TYPE_CHECKING:
    from sdwan.lab.builder import LabRunner

app = typer.Typer(help="Network labs in Linux namespaces (needs root).", no_args_is_help=True)

PrefixOpt = Annotated[
    str | None,
    typer.Option("--prefix", help="Lab prefix (1-8 chars [a-z0-9-]); default: the only lab."),
]
RootOpt = Annotated[
    Path | None, typer.Option("--lab-dir", help="Where lab state lives (SDWAN_LAB_DIR).")
]


def _runner(prefix: str | None, root: Path | None) -> LabRunner:
    from sdwan.lab.builder import LabRunner, default_root, labs

    root = root or default_root()
    if prefix is None:
        found = labs(root)
        if len(found) != 1:
            raise CliError(
                f"{len(found)} labs under {root} ({', '.join(found) or 'none'}): give --prefix"
            )
        prefix = found[0]
    try:
        return LabRunner(prefix, root)
    except ValueError as exc:
        raise CliError(str(exc)) from None


@app.command("up")
def up(
    ctx: typer.Context,
    topology: Annotated[Path, typer.Argument(help="Topology file (YAML).")],
    prefix: Annotated[
        str, typer.Option("--prefix", help="Names every namespace, link and daemon.")
    ] = "lab",
    root: RootOpt = None,
    register: Annotated[
        bool,
        typer.Option(
            "--register",
            help="Also create a router in the orchestrator (SDWAN_URL) for every gobgp node "
            "(needs asn and router_id in the topology).",
        ),
    ] = False,
) -> None:
    """Build the topology (idempotent); `lab down` removes all of it."""
    from sdwan.lab.netns import LabError
    from sdwan.lab.topology import TopologyError, load_topology

    try:
        topo = load_topology(topology)
    except TopologyError as exc:
        raise CliError(str(exc)) from None
    runner = _runner(prefix, root)
    try:
        with Progress("lab up", runner.steps(topo)) as progress:
            done = runner.up(topo, str(topology.absolute()), on_step=progress.advance)
        typer.echo(done)
    except (LabError, OSError, TimeoutError, RuntimeError) as exc:
        raise CliError(f"lab up failed (everything it made was removed): {exc}") from None
    state = runner.load()
    for node, address in sorted(state.sockets.items() if state else []):
        typer.echo(f"  {node}: gobgpd gRPC at {address}")
    if register and state:
        client = get_client(ctx)
        registered: list[str] = []
        with Progress("registering", len(state.sockets)) as progress:
            for node, address in sorted(state.sockets.items()):
                spec = topo.nodes[node]
                if spec.asn is None or spec.router_id is None:
                    raise CliError(f"node {node!r}: --register needs asn and router_id")
                body = {"name": node, "asn": spec.asn, "router_id": spec.router_id}
                client.post("/v1/routers", {**body, "api_address": address})
                registered.append(node)
                progress.advance(f"router {node}")
        for node in registered:
            typer.echo(f"  {node}: registered as router {node!r}")


@app.command("down")
def down(prefix: PrefixOpt = None, root: RootOpt = None) -> None:
    """Stop every daemon and remove every namespace, link and file of the lab."""
    runner = _runner(prefix, root)
    removed = runner.down()
    typer.echo(f"lab {runner.prefix} is down ({len(removed)} objects removed)")


@app.command("status")
def status(
    prefix: PrefixOpt = None,
    root: RootOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Nodes, their namespaces and daemons."""
    info = _runner(prefix, root).status()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"lab {info['prefix']}: {'up' if info['up'] else 'NOT up'}")
    for problem in info.get("problems", []):
        typer.echo(f"  problem: {problem}")
    for node, n in info["nodes"].items():
        daemons = " ".join(f"{d}={'ok' if ok else 'DEAD'}" for d, ok in n["daemons"].items())
        api = f" api={n['api_address']}" if n["api_address"] else ""
        present = "" if n["present"] else " (namespace missing)"
        typer.echo(f"  {node:8} {n['kind']:6} ns={n['namespace']}{present} {daemons}{api}")
    for target, impairment in info.get("impairments", {}).items():
        since = time.strftime("%H:%M:%S", time.localtime(impairment["since"] or 0))
        far = f", far end {impairment['far_end']}" if impairment["far_end"] else ""
        typer.echo(
            f"  impaired {target} ({impairment['interface']}{far}): "
            f"{impairment['description']} since {since}"
        )


@app.command("impair")
def impair(
    target: Annotated[
        str, typer.Argument(metavar="NODE:IFNAME", help="A node's interface, e.g. r1:e0.")
    ],
    loss: Annotated[
        float | None,
        typer.Option(
            "--loss", metavar="PCT", help="Drop this % of IP packets at random (0.01 steps)."
        ),
    ] = None,
    delay: Annotated[
        float | None, typer.Option("--delay", metavar="MS", help="Hold every IP packet this long.")
    ] = None,
    jitter: Annotated[
        float | None,
        typer.Option("--jitter", metavar="MS", help="Vary the delay uniformly by ± this much."),
    ] = None,
    blackhole: Annotated[
        bool, typer.Option("--blackhole", help="Drop every IP packet (BGP spared, link up).")
    ] = False,
    direction: Annotated[
        str,
        typer.Option(
            "--direction", metavar="out|in|both", help="Packets leaving NODE, arriving, or both."
        ),
    ] = "both",
    include_bgp: Annotated[
        bool, typer.Option("--include-bgp", help="Let loss and blackhole drop BGP (TCP 179) too.")
    ] = False,
    clear: Annotated[
        bool, typer.Option("--clear", help="Remove the interface's impairment.")
    ] = False,
    prefix: PrefixOpt = None,
    root: RootOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Impair a link at run time: loss, delay, jitter, blackhole (one direction or both)."""
    from sdwan.lab.impairment import Impairment, ImpairmentError, parse_target
    from sdwan.lab.netns import LabError

    given = loss is not None or delay is not None or jitter is not None or blackhole
    try:
        node, ifname = parse_target(target)
        if clear and (given or include_bgp):
            raise ImpairmentError("--clear takes no other impairment option")
        if not clear and not given:
            raise ImpairmentError(
                "nothing to impair: give --loss, --delay, --jitter or --blackhole (or --clear)"
            )
        wanted = None
        if not clear:
            wanted = Impairment(
                loss_pct=loss or 0.0,
                delay_ms=delay or 0.0,
                jitter_ms=jitter or 0.0,
                blackhole=blackhole,
                direction=direction,  # type: ignore[arg-type]  # checked by Impairment
                include_bgp=include_bgp,
            )
        runner = _runner(prefix, root)
        if wanted is None:
            applied = runner.clear_impairment(node, ifname)
        else:
            applied = runner.impair(node, ifname, wanted)
    except (ImpairmentError, LabError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:  # not root, most likely
        raise CliError(f"cannot impair {target}: {exc}") from None
    at = (
        time.strftime("%H:%M:%S", time.localtime(applied.wall))
        + f".{int(applied.wall * 1000) % 1000:03d}"
    )
    if as_json:
        body = {
            "target": applied.target,
            "interface": applied.interface,
            "impairment": applied.impairment.to_json() if applied.impairment else None,
            "effective": applied.wall,
            "took_ms": round(applied.took_s * 1000, 3),
        }
        typer.echo(json.dumps(body, indent=2))
        return
    what = applied.impairment.describe() if applied.impairment else "cleared"
    typer.echo(
        f"{applied.target} ({applied.interface}): {what}; in effect at {at} "
        f"(took {applied.took_s * 1000:.1f} ms)"
    )


@app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def exec_(
    node: Annotated[str, typer.Argument(help="Node name.")],
    command: Annotated[list[str], typer.Argument(help="Command and arguments (after --).")],
    prefix: PrefixOpt = None,
    root: RootOpt = None,
) -> None:
    """Run a command inside a node's namespace: `sdwan lab exec pc1 -- ping 203.0.113.3`."""
    from sdwan.lab.netns import LabError

    try:
        argv = _runner(prefix, root).exec_argv(node, command)
    except LabError as exc:
        raise CliError(str(exc)) from None
    os.execvp(argv[0], argv)


def fib_agent(
    api: Annotated[str, typer.Option("--api", help="gobgpd gRPC target, e.g. unix:///x.sock")],
    resync: Annotated[float, typer.Option(help="Seconds between full re-syncs.")] = 10.0,
    fast_failover: Annotated[
        bool, typer.Option(help="Reset a neighbor at once when its link loses carrier.")
    ] = True,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="unix:///PATH",
            help="Serve the installed routes here (read by intent verification).",
        ),
    ] = None,
    multipath: Annotated[
        bool,
        typer.Option(help="Install every path gobgpd counts as equal to the best (ECMP)."),
    ] = False,
    nexthop_compat: Annotated[
        bool,
        typer.Option(
            help="Leave the kernel's nexthop_compat_mode on (route dumps expand groups, "
            "but a group swap then costs time per route)."
        ),
    ] = False,
    tls_ca: Annotated[
        str | None,
        typer.Option("--tls-ca", metavar="FILE", help="gobgpd serves TLS: trust this PEM CA file."),
    ] = None,
    tls_server_name: Annotated[
        str | None, typer.Option(help="With --tls-ca: the name on gobgpd's certificate.")
    ] = None,
) -> None:
    """Install gobgpd's best paths in this namespace's kernel table (proto 186)."""
    from sdwan.domain.endpoint import GobgpEndpoint
    from sdwan.fib.agent import main

    endpoint = GobgpEndpoint(api)
    if tls_ca is not None:
        try:
            ca_pem = Path(tls_ca).read_text()
        except OSError as exc:
            raise CliError(f"--tls-ca: cannot read {tls_ca}: {exc.strerror}") from None
        endpoint = GobgpEndpoint(api, True, ca_pem, tls_server_name)
    main(endpoint, resync, fast_failover, status, multipath, nexthop_compat)
