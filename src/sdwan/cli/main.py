"""The ``sdwan`` Typer app, one command group per resource (the groups and commands
are registered below; ``sdwan --help`` lists them): resources (router, neighbor,
defined-set, policy, attachment, announcement, site, uplink, intent, sla, alert rule,
webhook), reads (rib, policyinfo, watch, events, audit, alert), identity (login, user,
project, role, token), fleet files (apply, export), revisions (history, rollback),
operation (serve, replica, lab, fib-agent, probe-agent, config)."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from sdwan.cli import (
    alerts,
    announcements,
    attachments,
    audit,
    fleet,
    history,
    identity,
    intents,
    lab,
    live,
    neighbors,
    policies,
    policy_sets,
    policyinfo,
    probe,
    replicas,
    rib,
    rollouts,
    routers,
    sites,
    sla,
    uplinks,
    webhooks,
)
from sdwan.cli.client import get_state, one_line
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, OutputOpt, print_object
from sdwan.cli.rollouts import parse_duration
from sdwan.cli.serve import serve
from sdwan.cli.settings import config_path, load_settings, write_config


class _Group(TyperGroup):
    """Turns every failure into ``error: <message>`` on stderr and exit 1, no traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context
        try:
            return super().invoke(ctx)
        except CliError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from None
        except (typer.TyperException, typer.Exit, typer.Abort, BrokenPipeError):
            raise  # usage errors (exit 2), explicit exits, Ctrl-C, `| head`
        except Exception as exc:
            if os.environ.get("SDWAN_DEBUG"):
                raise
            name = type(exc).__name__
            typer.echo(
                f"error: unexpected {name}: {one_line(str(exc))} (SDWAN_DEBUG=1 shows the "
                "traceback)",
                err=True,
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    name="sdwan",
    help="Command-line client of the sdwan GoBGP orchestrator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Where the API is and which token to use.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(routers.app, name="router")
app.add_typer(neighbors.app, name="neighbor")
app.add_typer(rib.app, name="rib")
app.add_typer(policy_sets.app, name="defined-set")
app.add_typer(policies.app, name="policy")
app.add_typer(attachments.app, name="attachment")
app.add_typer(announcements.app, name="announcement")
app.add_typer(policyinfo.app, name="policyinfo")
app.add_typer(sites.site_app, name="site")
app.add_typer(uplinks.app, name="uplink")
app.add_typer(intents.app, name="intent")
app.add_typer(sla.app, name="sla")
app.add_typer(alerts.app, name="alert")
app.add_typer(webhooks.app, name="webhook")
app.add_typer(identity.users_app, name="user")
app.add_typer(identity.projects_app, name="project")
app.add_typer(identity.roles_app, name="role")
app.add_typer(identity.tokens_app, name="token")
app.command("login")(identity.login)
app.command("logout")(identity.logout)
app.command("whoami")(identity.whoami)
app.command("audit")(audit.audit)
app.command("serve")(serve)
app.command("apply")(fleet.apply)
app.command("export")(fleet.export)
app.add_typer(history.app, name="history")
app.command("rollback")(history.rollback)
app.add_typer(rollouts.app, name="rollout")
app.command("watch")(live.watch)
app.command("events")(live.events)
app.add_typer(replicas.app, name="replica")
app.add_typer(lab.app, name="lab")
app.command("fib-agent")(lab.fib_agent)
app.command("probe-agent")(probe.probe_agent)


@app.callback()
def root(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option("--url", help="API base URL (wins over SDWAN_URL and config).")
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(
            "-m", "--message", help="Why: the message of the revision the command's writes make."
        ),
    ] = None,
    confirm_within: Annotated[
        str | None,
        typer.Option(
            "--confirm-within",
            metavar="DURATION",
            help="Roll the command's writes back unless `sdwan rollout confirm ID` within "
            "DURATION (90, 90s, 5m, 1h).",
        ),
    ] = None,
) -> None:
    """Talk to the sdwan REST API (SDWAN_URL, SDWAN_TOKEN, or `sdwan config set`)."""
    state = get_state(ctx)  # tests pass their own State (with a mock transport) as obj
    if url:
        state.url = url
    if message is not None:
        state.message = message
    if confirm_within is not None:
        state.confirm_within = parse_duration(confirm_within, "--confirm-within")


def _summary(ctx: typer.Context) -> dict[str, Any]:
    settings = load_settings()
    override = get_state(ctx).url
    return {
        "url": override or settings.url,
        "url_source": "--url" if override else settings.url_source,
        "token_set": settings.token is not None,
        "token_source": settings.token_source,
        "config_file": str(settings.config_path),
    }


@config_app.command("set")
def config_set(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", help="API base URL.")] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="API token (visible in `ps`; see --token-stdin).")
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the API token from stdin.")
    ] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Write the config file (mode 0600); options not given keep their value."""
    if token is not None and token_stdin:
        raise CliError("give either --token or --token-stdin, not both")
    if token_stdin:
        token = sys.stdin.read().strip()
    if url is None and token is None:
        raise CliError("nothing to set: give --url and/or --token")
    if url is not None and not url.startswith(("http://", "https://")):
        raise CliError(f"--url must start with http:// or https://, got {url!r}")
    path = config_path()
    write_config(path, url=url.rstrip("/") if url else None, token=token)
    if output is OutputFormat.table:
        typer.echo(f"wrote {path}")
    else:
        print_object(_summary(ctx), output)


@config_app.command("show")
def config_show(ctx: typer.Context, output: OutputOpt = OutputFormat.table) -> None:
    """Show the API URL in use and whether a token is set (never the token)."""
    summary = _summary(ctx)
    if output is OutputFormat.table:
        token = f"set (from {summary['token_source']})" if summary["token_set"] else "not set"
        summary = {
            "url": f"{summary['url']} (from {summary['url_source']})",
            "token": token,
            "config_file": summary["config_file"],
        }
    print_object(summary, output)


def main() -> None:
    app(prog_name="sdwan")


if __name__ == "__main__":
    main()
