"""The `show` and `delete` commands every router-owned resource has, registered once.

No `from __future__ import annotations`: Typer must see each resource's own
reference argument (its help text names the resource), a closure variable."""

from typing import Any

import typer

from sdwan.cli import owned
from sdwan.cli.common import TIMEOUT, IfMatchOpt, Resource, TimeoutOpt, WaitOpt
from sdwan.cli.output import OutputFormat, OutputOpt


def add_show_and_delete(
    app: typer.Typer,
    resource: Resource,
    ref_arg: Any,
    printer: owned.Printer,
    *,
    show_help: str,
    delete_help: str,
) -> None:
    def show(ctx: typer.Context, ref: ref_arg, output: OutputOpt = OutputFormat.table) -> None:
        owned.show_object(ctx, resource, ref, output, printer)

    def delete(
        ctx: typer.Context,
        ref: ref_arg,
        if_match: IfMatchOpt = None,
        wait: WaitOpt = False,
        timeout: TimeoutOpt = TIMEOUT,
        output: OutputOpt = OutputFormat.table,
    ) -> None:
        resource.delete(ctx, ref, if_match, wait, timeout, output)

    show.__doc__, delete.__doc__ = show_help, delete_help
    app.command("show")(show)
    app.command("delete")(delete)
