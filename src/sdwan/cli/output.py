"""Rendering API objects: Gohan-style ASCII tables, JSON or YAML."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer
import yaml
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


OutputOpt = Annotated[
    OutputFormat,
    typer.Option("-o", "--output", case_sensitive=False, help="Output format."),
]

# (header, field) pairs; the STATUS DETAIL column is added when any row has a detail.
Columns = Sequence[tuple[str, str]]


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(cell(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _console() -> Console:
    console = Console(highlight=False, emoji=False)
    if not console.is_terminal:
        console.width = 1000  # never wrap table rows in pipes and files
    return console


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(box=box.ASCII, show_header=True, header_style="bold", show_edge=True)
    for header in headers:
        table.add_column(header.upper(), overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell(value)) for value in row))
    _console().print(table)


def print_data(data: Any, fmt: OutputFormat) -> None:
    """``-o json`` / ``-o yaml``: the data itself, for scripts."""
    if fmt is OutputFormat.yaml:
        typer.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False), nl=False)
    else:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_list(items: Sequence[Mapping[str, Any]], columns: Columns, fmt: OutputFormat) -> None:
    if fmt is not OutputFormat.table:
        print_data([dict(item) for item in items], fmt)
        return
    columns = list(columns)
    if any(item.get("status_detail") for item in items):
        columns.append(("STATUS DETAIL", "status_detail"))
    rows = [[item.get(key) for _, key in columns] for item in items]
    print_table([header for header, _ in columns], rows)


def conditions_text(conditions: Sequence[Mapping[str, Any]]) -> str:
    """One line per condition: ``Applied=True Applied since ...: message``."""
    lines = []
    for c in conditions:
        line = f"{c.get('type')}={c.get('status')} {c.get('reason')} since {c.get('since')}"
        lines.append(line + (f": {c['message']}" if c.get("message") else ""))
    return "\n".join(lines)


def print_object(obj: Mapping[str, Any], fmt: OutputFormat) -> None:
    if fmt is not OutputFormat.table:
        print_data(dict(obj), fmt)
        return
    rows = [
        (key, conditions_text(value) if key == "conditions" and isinstance(value, list) else value)
        for key, value in obj.items()
    ]
    print_table(["FIELD", "VALUE"], rows)


def pop_warnings(body: Any) -> dict[str, Any]:
    """Print a write answer's ``warnings`` to stderr; return the object without them."""
    if not isinstance(body, dict):
        return {}
    obj = dict(body)
    warnings = obj.pop("warnings", None) or []
    if isinstance(warnings, str):
        warnings = [warnings]
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    return obj


def note(message: str) -> None:
    """A human-only remark (stderr, so ``-o json`` stays parseable)."""
    typer.echo(message, err=True)


def print_done(message: str, obj: Mapping[str, Any] | None, fmt: OutputFormat) -> None:
    """For delete: a sentence in table mode, the API object otherwise."""
    if fmt is OutputFormat.table:
        typer.echo(message)
    else:
        print_data(dict(obj or {}), fmt)


def page_hint(shown: int, offset: int, total: int, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.table and offset + shown < total:
        first = offset + 1 if shown else offset
        note(f"showing {first}-{offset + shown} of {total}; use --all, or --limit/--offset")


def brief(values: Sequence[str], shown: int = 3) -> str:
    """The first few values, then how many more."""
    if len(values) <= shown:
        return ", ".join(values)
    return ", ".join(values[:shown]) + f", ... (+{len(values) - shown} more)"
