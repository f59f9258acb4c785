"""The command-line surface of ``sdwan``, pinned: every command with its arguments and
options (spellings, types, ranges, repeatable, required, defaults), as users, scripts,
README.md and docs/cli.md know them. The commands are built from shared declarations
(``sdwan.cli.commands``), so a change there reaches many commands at once; this test
names each one it reaches.

A deliberate change to the surface updates ``cli_surface.txt`` too:
``PYTHONPATH=src python -m tests.unit.test_cli_surface > tests/unit/cli_surface.txt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from sdwan.cli.main import app

PINNED = Path(__file__).with_name("cli_surface.txt")


def describe(param: Any) -> str:
    """``ROUTER``; ``--name/--host_name:str!``; ``--limit:int[1..1000]``; ``--all``;
    ``--family:list[str]*``; ``--timeout:float[0..]=30.0`` (! required, * repeatable)."""
    if param.param_type_name == "argument":
        return str(param.metavar or param.name.upper())
    text = "/".join([*param.opts, *param.secondary_opts])
    kind = param.bare_type()
    if not (param.is_flag and kind == "bool"):
        text += f":{kind}"
    if param.min is not None or param.max is not None:
        low, high = ("" if bound is None else bound for bound in (param.min, param.max))
        text += f"[{low}..{high}]"
    if param.multiple:
        text += "*"
    if param.required:
        text += "!"
    if param.default not in (None, False):
        text += f"={param.default}"
    return text


def surface(command: Any, path: tuple[str, ...] = ()) -> dict[str, str]:
    """``"router create"`` -> its parameters described, in order; for every command."""
    if not hasattr(command, "commands"):
        return {" ".join(path): " ".join(describe(param) for param in command.params)}
    found: dict[str, str] = {}
    for name, sub in command.commands.items():
        found |= surface(sub, (*path, name))
    return found


def lines() -> list[str]:
    return [
        f"{name}: {params}".rstrip()
        for name, params in surface(typer.main.get_command(app)).items()
    ]


def test_every_command_keeps_its_arguments_and_options() -> None:
    pinned = PINNED.read_text().splitlines()
    now = lines()
    gone = [f"- {line}" for line in pinned if line not in now]
    new = [f"+ {line}" for line in now if line not in pinned]
    assert not gone + new, "the command-line surface changed:\n" + "\n".join(gone + new)
    assert now == pinned  # and the commands are listed in the same order


if __name__ == "__main__":
    print("\n".join(lines()))
