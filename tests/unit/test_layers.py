"""The import structure of src/sdwan holds to the layers written in
docs/architecture.md: every import runs downward, and no modules import each other in
a circle. The table in the document is the rule; this test reads it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "sdwan"
DOC = ROOT / "docs" / "architecture.md"
GENERATED = ("_pb",)  # gRPC stubs generated at install time


def layer_table(text: str) -> dict[str, int]:
    """Package (or top-level module) -> layer, from the block between the markers."""
    block = text.split("<!-- layers:start -->", 1)[1].split("<!-- layers:end -->", 1)[0]
    ranks: dict[str, int] = {}
    for line in block.splitlines():
        # "<layer>  <names>  <what they are>": two or more spaces end the names
        match = re.match(r"\s*(\d+)\s+(\S+(?: \S+)*)", line)
        if not match:
            continue
        rank = int(match.group(1))
        for word in match.group(2).split():
            if word in ranks:
                raise AssertionError(f"{word} is placed twice in the layer table")
            ranks[word] = rank
    return ranks


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under ``package`` (generated excluded)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).with_suffix("")
        if any(part in GENERATED for part in rel.parts):
            continue
        found[".".join(rel.parts).removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: Mapping[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of a module in ``known``, at any depth of the
    file (imports inside functions and TYPE_CHECKING blocks count too)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from a.b import c` imports a.b, and a.b.c when c is a module
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name in known:
                yield node.lineno, name


def unit_of(module: str) -> str:
    """The layer table's name for a module: its package under sdwan, or the module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def graph(package: Path) -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first such import}."""
    known = modules(package)
    edges: dict[str, dict[str, int]] = {}
    for name, path in known.items():
        edges[name] = {}
        for line, target in imports(path, known):
            if target != name:
                edges[name].setdefault(target, line)
    return edges


def wrong_way(edges: Mapping[str, Mapping[str, int]], ranks: Mapping[str, int]) -> list[str]:
    """Imports that run sideways or upward, as 'module:line -> module (layers)'."""
    found = []
    for source, targets in edges.items():
        for target, line in targets.items():
            here, there = unit_of(source), unit_of(target)
            if here != there and ranks[there] >= ranks[here]:
                found.append(
                    f"{source}:{line} -> {target} "
                    f"(layer {ranks[here]} {here} may not import layer {ranks[there]} {there})"
                )
    return sorted(found)


def cycles(edges: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, {}))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


QUERY_BUILDERS = frozenset({"select", "insert", "update", "delete"})


def is_table_module(module: str) -> bool:
    """store/tables.py and every store/*_tables.py: the SQLAlchemy tables."""
    parts = module.split(".")
    return (
        parts[:2] == ["sdwan", "store"]
        and len(parts) == 3
        and (parts[2] == "tables" or parts[2].endswith("_tables"))
    )


def database_reaches(package: Path) -> list[str]:
    """Imports outside store/ of a table module or of SQLAlchemy's query builders,
    as 'module:line imports what' (any depth of the file, like ``imports``)."""
    found: list[str] = []
    for name, path in modules(package).items():
        if name == "sdwan.store" or name.startswith("sdwan.store."):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                bad = [a.name for a in node.names if is_table_module(a.name)]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "sqlalchemy" or node.module.startswith("sqlalchemy."):
                    bad = [
                        f"{node.module}.{a.name}" for a in node.names if a.name in QUERY_BUILDERS
                    ]
                elif is_table_module(node.module):
                    bad = [node.module]
                else:
                    bad = [
                        f"{node.module}.{a.name}"
                        for a in node.names
                        if is_table_module(f"{node.module}.{a.name}")
                    ]
            else:
                continue
            found.extend(f"{name}:{node.lineno} imports {what}" for what in bad)
    return sorted(found)


@pytest.fixture(scope="module")
def ranks() -> dict[str, int]:
    return layer_table(DOC.read_text())


def test_every_package_has_a_place_in_the_layer_table(ranks: dict[str, int]) -> None:
    units = {unit_of(name) for name in modules(PACKAGE)}
    assert units - set(ranks) == set(), "place these in docs/architecture.md's layer table"
    assert set(ranks) - units == set(), "the layer table names packages that do not exist"


def test_every_import_runs_down_the_layers(ranks: dict[str, int]) -> None:
    assert wrong_way(graph(PACKAGE), ranks) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert cycles(graph(PACKAGE)) == []


def test_only_the_store_reaches_tables_and_builds_queries() -> None:
    """Services and everything above them go through store/'s repository functions."""
    assert database_reaches(PACKAGE) == []


def test_the_checks_catch_an_upward_import_and_a_circle(tmp_path: Path) -> None:
    """The checker itself: a tree with both faults is caught on both counts."""
    package = tmp_path / "sdwan"
    (package / "store").mkdir(parents=True)
    (package / "service").mkdir()
    (package / "__init__.py").write_text("")
    (package / "store" / "__init__.py").write_text("")
    (package / "service" / "__init__.py").write_text("")
    (package / "store" / "repo.py").write_text(
        "def late():\n    from sdwan.service.rules import check\n"
    )
    (package / "service" / "rules.py").write_text("from sdwan.store import repo\n")
    ranks = layer_table(
        "<!-- layers:start -->\n 2  service   rules\n 1  store  rows\n 0  __init__\n"
        "<!-- layers:end -->"
    )
    edges = graph(package)
    assert wrong_way(edges, ranks) == [
        "sdwan.store.repo:2 -> sdwan.service.rules (layer 1 store may not import layer 2 service)"
    ]
    assert cycles(edges) == [["sdwan.service.rules", "sdwan.store.repo"]]


def test_the_store_check_catches_tables_and_query_builders(tmp_path: Path) -> None:
    package = tmp_path / "sdwan"
    for sub in ("store", "service"):
        (package / sub).mkdir(parents=True)
        (package / sub / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "store" / "tables.py").write_text("from sqlalchemy import select\n")
    (package / "store" / "user_tables.py").write_text("")
    (package / "store" / "user_repo.py").write_text("from sdwan.store.user_tables import users\n")
    (package / "service" / "users.py").write_text(
        "from sqlalchemy import Engine, select\n"
        "from sdwan.store import repo, user_tables\n"
        "def late():\n    import sdwan.store.tables\n"
    )
    assert database_reaches(package) == [
        "sdwan.service.users:1 imports sqlalchemy.select",
        "sdwan.service.users:2 imports sdwan.store.user_tables",
        "sdwan.service.users:4 imports sdwan.store.tables",
    ]


# The core resources of the service layer, and the SD-WAN add-on built on them: the
# add-on reaches into the core (an uplink names a neighbor), never the other way; it
# registers what the core must respect (a neighbor an uplink names stays).
CORE_SERVICES = ("routers", "neighbors", "owned", "policy_specs", "policyinfo")
ADD_ON_SERVICES = ("sites", "uplinks", "intents", "site_common", "intent_sync", "intent_plan")


def reaches(edges: Mapping[str, Mapping[str, int]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), {}):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_core_services_do_not_import_the_intent_add_on() -> None:
    edges = graph(PACKAGE)
    add_on = {f"sdwan.service.{name}" for name in ADD_ON_SERVICES}
    found = {
        core: sorted(reaches(edges, f"sdwan.service.{core}") & add_on) for core in CORE_SERVICES
    }
    assert {core: names for core, names in found.items() if names} == {}
