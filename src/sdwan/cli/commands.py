"""Commands declared rather than written out: a group's ``list``, ``show``, ``create``,
``set`` and ``delete`` built from its :class:`Resource` and the options that are its own.

Typer reads a command's options from its function's signature; :func:`command` makes
that signature from :class:`Param` declarations. So the options every group shares
(paging, ``--if-match``, ``--wait``/``--timeout``, ``-o``) are declared once, here, and
a group declares its field options once for both ``create`` and ``set``. A command's
code reads what it was given from :data:`Args`, by parameter name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any

import typer

from sdwan.cli.output import OutputFormat, OutputOpt
from sdwan.cli.resource import DEFAULT_TIMEOUT, Item, Paging, Resource

Args = Mapping[str, Any]  # what a command was given, by Param.name
Run = Callable[[typer.Context, Args], None]
REQUIRED = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    """One parameter of a command: the name its code reads it by, its Typer annotation
    (``Annotated[type, typer.Option(...)]`` or ``typer.Argument``) and its default
    (REQUIRED: none, the user must give it)."""

    name: str
    annotation: Any
    default: Any = None

    def required(self) -> Param:
        return replace(self, default=REQUIRED)

    def parameter(self) -> inspect.Parameter:
        kind = inspect.Parameter.KEYWORD_ONLY
        return inspect.Parameter(self.name, kind, default=self.default, annotation=self.annotation)


def option(
    name: str,
    kind: Any,
    *decls: str,
    default: Any = None,
    help: str | None = None,
    metavar: str | None = None,
    min: float | None = None,
    max: float | None = None,
) -> Param:
    """An option read as ``name``, of type ``kind``, spelled ``decls`` (none: from the
    name); the rest as for ``typer.Option``."""
    info = typer.Option(*decls, help=help, metavar=metavar, min=min, max=max)
    return Param(name, Annotated[kind, info], default)


def argument(metavar: str, help: str | None = None, *, name: str = "ref") -> Param:
    """A required positional argument, read as ``name``."""
    return Param(name, Annotated[str, typer.Argument(metavar=metavar, help=help)], REQUIRED)


_CONTEXT = inspect.Parameter(
    "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
)


def command(app: typer.Typer, name: str, doc: str, params: Sequence[Param], run: Run) -> None:
    """Register ``run`` as command ``name`` of ``app``: ``params`` in order, ``doc`` its help."""

    def callback(ctx: typer.Context, **args: Any) -> None:
        run(ctx, args)

    signature = inspect.Signature([_CONTEXT, *(param.parameter() for param in params)])
    callback.__signature__ = signature  # type: ignore[attr-defined]  # what Typer reads
    callback.__doc__ = doc
    app.command(name)(callback)


# --- the options groups share ------------------------------------------------------------

OUTPUT = Param("output", OutputOpt, OutputFormat.table)
DESCRIPTION = option("description", str | None, "--description", help="Free text.")
IF_MATCH = option(
    "if_match",
    str | None,
    "--if-match",
    metavar="VERSION",
    help="Refuse the write (412) unless the version is this.",
)
WAIT = option(
    "wait",
    bool,
    "--wait",
    default=False,
    help="Wait until the resource is ACTIVE (gone, for delete) or ERROR.",
)
TIMEOUT = option(
    "timeout",
    float,
    "--timeout",
    default=DEFAULT_TIMEOUT,
    min=0,
    help="Seconds --wait waits before failing.",
)
STATUS = option("status", str | None, "--status", help="Only this status.")
SORT = option("sort", str | None, "--sort", help="Field(s) to sort by; -field descends.")
LIMIT = option("limit", int | None, "--limit", min=1, max=1000)
OFFSET = option("offset", int | None, "--offset", min=0)
ALL = option(
    "all_", bool, "--all", default=False, help="Fetch every page (--limit is the page size)."
)
PAGING = (SORT, LIMIT, OFFSET, ALL)


def _unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Filter:
    """A ``list`` option narrowing the query: ``--router X`` asks for ``?router=X``. The
    option's name is the query field; ``parse`` turns the value given (None when not
    given) into the query's."""

    option: Param
    parse: Callable[[Any], Any] = _unchanged


ROUTER_FILTER = Filter(option("router", str | None, "--router", help="Only this router."))
NAME_FILTER = Filter(option("name", str | None, "--name", help="Only this name."))
SITE_FILTER = Filter(option("site", str | None, "--site", help="Only this site's."))


def wait_and_timeout(args: Args) -> tuple[bool, float]:
    """--wait and --timeout as given (no waiting where the command has no --wait)."""
    return bool(args.get("wait", False)), float(args.get("timeout", DEFAULT_TIMEOUT))


def add_list(
    app: typer.Typer,
    resource: Resource,
    doc: str,
    filters: Sequence[Filter] = (),
    paging: Sequence[Param] = (STATUS, *PAGING),
) -> None:
    """``list``: the filters, then ``paging`` (--status and PAGING, or some of them), -o."""

    def run(ctx: typer.Context, args: Args) -> None:
        query = {f.option.name: f.parse(args[f.option.name]) for f in filters}
        pages = Paging(
            args.get("status"),
            args.get("sort"),
            args.get("limit"),
            args.get("offset"),
            args.get("all_", False),
        )
        resource.list_(ctx, query, pages, args["output"])

    params = [*(f.option for f in filters), *paging, OUTPUT]
    command(app, "list", doc, params, run)


@dataclass(frozen=True)
class ResourceCommands:
    """The commands of the group ``app`` on ``resource``; ``ref`` is the argument that
    names one of its objects (for show, set and delete)."""

    app: typer.Typer
    resource: Resource
    ref: Param

    def add_list(
        self,
        doc: str,
        filters: Sequence[Filter] = (),
        paging: Sequence[Param] = (STATUS, *PAGING),
    ) -> None:
        add_list(self.app, self.resource, doc, filters, paging)

    def add_show(self, doc: str) -> None:
        def run(ctx: typer.Context, args: Args) -> None:
            self.resource.show(ctx, args[self.ref.name], args["output"])

        command(self.app, "show", doc, [self.ref, OUTPUT], run)

    def add_create(self, doc: str, params: Sequence[Param], body: Callable[[Args], Item]) -> None:
        """``create``: ``params`` (a new object's ``ref``, if any, first), then --wait and
        --timeout unless the resource is applied at once, then -o; POSTs ``body(args)``."""

        def run(ctx: typer.Context, args: Args) -> None:
            wait, timeout = wait_and_timeout(args)
            ref = args.get("ref")
            self.resource.create(ctx, body(args), wait, timeout, args["output"], ref=ref)

        command(self.app, "create", doc, [*params, *self._write_waits(), OUTPUT], run)

    def set_params(self, params: Sequence[Param]) -> list[Param]:
        """``set``'s parameters: the reference, ``params``, --if-match, --wait/--timeout, -o."""
        return [self.ref, *params, IF_MATCH, *self._write_waits(), OUTPUT]

    def add_set(self, doc: str, params: Sequence[Param], body: Callable[[Args], Item]) -> None:
        """``set``: PATCHes ``body(args)``, the fields given."""

        def run(ctx: typer.Context, args: Args) -> None:
            wait, timeout = wait_and_timeout(args)
            ref, if_match = args[self.ref.name], args["if_match"]
            self.resource.update(ctx, ref, body(args), if_match, wait, timeout, args["output"])

        command(self.app, "set", doc, self.set_params(params), run)

    def add_delete(
        self,
        doc: str,
        params: Sequence[Param] = (),
        query: Callable[[Args], dict[str, str]] | None = None,
    ) -> None:
        """``delete``: the reference, ``params`` (sent as the query ``query(args)``),
        --if-match, --wait/--timeout unless the resource is deleted at once, -o."""

        def run(ctx: typer.Context, args: Args) -> None:
            wait, timeout = wait_and_timeout(args)
            ref, if_match, output = args[self.ref.name], args["if_match"], args["output"]
            sent = query(args) if query is not None else None
            self.resource.delete(ctx, ref, if_match, output, wait, timeout, sent)

        waits = () if self.resource.deleted_at_once else (WAIT, TIMEOUT)
        command(self.app, "delete", doc, [self.ref, *params, IF_MATCH, *waits, OUTPUT], run)

    def _write_waits(self) -> tuple[Param, ...]:
        """--wait and --timeout, for create and set, unless the resource is applied at once."""
        return () if self.resource.applied_at_once else (WAIT, TIMEOUT)
