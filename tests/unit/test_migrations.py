"""The migrations form one linear chain, and databases made by the old tree of
migrations (a branch per feature, up to eight heads) upgrade onto it with the schema a
new database gets."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from sdwan.errors import StartupRefused
from sdwan.lab.postgres import PostgresServer
from sdwan.store.db import MIGRATIONS_DIR, make_engine, migrate, sqlite_url
from sdwan.store.migrations.legacy import OLD_TREE, chain_stamp

# what the old tree's databases were stamped with, as main added its migrations
OLD_STAGES = [
    {"0001"},
    {"0002", "0003"},
    {"0002", "0003", "0004"},
    {"0002", "0003", "0010"},
    {"0002", "0003", "0010", "0005_security"},
    {"0002", "0003", "0010", "0005_security", "0011"},
    {"0002", "0003", "0010", "0005_security", "0011", "0012"},
    {"0014_intent", "0003", "0010", "0005_security", "0011", "0012"},
    {"0014_intent", "0003", "0010", "0005_security", "0011", "0012", "0015_conditions"},
]
OLD_HEADS = {
    "0003",
    "0005_security",
    "0010",
    "0011",
    "0012",
    "0014_intent",
    "0015_conditions",
    "0016_owned_conditions",
}


def _config(script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


def chain_problems(script_location: Path) -> list[str]:
    """What keeps the scripts under ``script_location`` from being one linear chain of
    ``NNNN_name`` revisions numbered 1, 2, 3 ... in files named after them."""
    scripts = ScriptDirectory.from_config(_config(script_location))
    problems = []
    heads = scripts.get_heads()
    if len(heads) != 1:
        problems.append(f"{len(heads)} heads: {sorted(heads)}")
    for script in scripts.walk_revisions():
        number = re.fullmatch(r"(\d{4})_[a-z0-9_]+", script.revision)
        if number is None or Path(script.path).stem != script.revision:
            problems.append(f"{script.path}: revision {script.revision!r} is not its file's name")
            continue
        expected = int(number.group(1)) - 1
        down = script.down_revision
        if expected == 0:
            if down is not None:
                problems.append(f"{script.revision}: the first revision revises {down!r}")
        elif not isinstance(down, str) or not down.startswith(f"{expected:04d}_"):
            problems.append(f"{script.revision}: revises {down!r}, not number {expected:04d}")
        if script.branch_labels or script.dependencies:
            problems.append(f"{script.revision}: branch labels or dependencies")
    return problems


def test_migrations_are_one_linear_chain() -> None:
    assert chain_problems(MIGRATIONS_DIR) == []


def test_a_second_head_is_caught(tmp_path: Path) -> None:
    forked = tmp_path / "forked"
    shutil.copytree(MIGRATIONS_DIR, forked, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory.from_config(_config(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    number = int(head[:4]) + 1
    for name in ("left", "right"):
        (forked / "versions" / f"{number:04d}_{name}.py").write_text(
            f'revision = "{number:04d}_{name}"\ndown_revision = "{head}"\n\n\n'
            "def upgrade() -> None:\n    pass\n"
        )
    assert any("2 heads" in problem for problem in chain_problems(forked))


def test_old_ids_never_name_a_chain_revision() -> None:
    """An old stamp is read as old, whatever the chain grows into."""
    scripts = ScriptDirectory.from_config(_config(MIGRATIONS_DIR))
    chain = {script.revision for script in scripts.walk_revisions()}
    assert not chain & OLD_TREE.keys()
    assert {new for _parent, new in OLD_TREE.values()} <= chain


def _old_tree(directory: Path) -> Path:
    """The old tree of migrations: each old revision runs the same migration's code
    from the chain, under its old id and its old parent."""
    versions = directory / "versions"
    versions.mkdir(parents=True)
    shutil.copy(MIGRATIONS_DIR / "env.py", directory / "env.py")
    for old, (parent, new) in OLD_TREE.items():
        (versions / f"old_{old}.py").write_text(
            "from importlib import import_module\n\n"
            f"revision = {old!r}\ndown_revision = {parent!r}\n"
            f"_chain = import_module('sdwan.store.migrations.versions.{new}')\n"
            "upgrade = _chain.upgrade\ndowngrade = _chain.downgrade\n"
        )
    return directory


def _migrate_old(engine: Engine, script_location: Path, heads: set[str]) -> None:
    config = _config(script_location)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        for head in sorted(heads):
            command.upgrade(config, head)
    with engine.connect() as connection:
        stamped = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert stamped == heads


def _schema(engine: Engine) -> dict[str, Any]:
    """Every table's columns, keys, indexes and constraints (column order aside: the
    old tree ran its branches in another order)."""
    inspector = inspect(engine)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        schema[table] = {
            "columns": {
                column["name"]: (str(column["type"]), column["nullable"], column["default"])
                for column in inspector.get_columns(table)
            },
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (index["name"], index["column_names"], index["unique"])
                for index in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (unique["name"], unique["column_names"])
                for unique in inspector.get_unique_constraints(table)
            ),
        }
    return schema


def _stamps(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_the_old_tree_had_eight_heads(tmp_path: Path) -> None:
    scripts = ScriptDirectory.from_config(_config(_old_tree(tmp_path / "old")))
    assert set(scripts.get_heads()) == OLD_HEADS


@pytest.mark.parametrize("old_heads", [*OLD_STAGES, OLD_HEADS], ids=lambda heads: str(len(heads)))
def test_an_old_sqlite_database_upgrades_onto_the_chain(
    tmp_path: Path, old_heads: set[str]
) -> None:
    """A database the old code left at any of its stages: opened by this code, it ends
    at the chain's head with the schema of a database made from nothing."""
    old = make_engine(sqlite_url(tmp_path / "old.db"))
    new = make_engine(sqlite_url(tmp_path / "new.db"))
    try:
        _migrate_old(old, _old_tree(tmp_path / "tree"), old_heads)
        migrate(old)
        migrate(new)
        head = ScriptDirectory.from_config(_config(MIGRATIONS_DIR)).get_current_head()
        assert _stamps(old) == _stamps(new) == {head}
        assert _schema(old) == _schema(new)
    finally:
        old.dispose()
        new.dispose()


def test_an_old_postgresql_database_upgrades_onto_the_chain(
    postgres: PostgresServer, pg_template: str, tmp_path: Path
) -> None:
    old = make_engine(postgres.create_database("old_tree"))
    new = make_engine(postgres.create_database("new_chain", template=pg_template))
    try:
        _migrate_old(old, _old_tree(tmp_path / "tree"), OLD_HEADS)
        migrate(old)
        assert _stamps(old) == _stamps(new)
        assert _schema(old) == _schema(new)
    finally:
        old.dispose()
        new.dispose()
        postgres.drop_database("old_tree")
        postgres.drop_database("new_chain")


def test_an_old_stamp_out_of_order_is_refused() -> None:
    """Conditions (0015) without policy (0002): no chain revision says what ran."""
    with pytest.raises(StartupRefused, match="0002_policy never ran"):
        chain_stamp({"0003", "0015_conditions"})
