"""service/visibility.py: an owner by key, a list filter naming one, a row under one.
What is unknown and what another project's answers alike (nothing leaks); the
answers name what the services' tests expect (404 by kind, 422 by field)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine

from sdwan.auth.principal import Principal, Role
from sdwan.errors import InvalidInput, NotFound
from sdwan.service.visibility import (
    Owner,
    asks_other_project,
    may_see,
    owner_filter,
    visible_owned,
    visible_owner,
)


@dataclass(frozen=True)
class Box:
    id: str
    project_id: str
    name: str


@dataclass(frozen=True)
class Item:
    id: str
    box_id: str


BOXES = {b.id: b for b in (Box("b1", "blue", "first"), Box("b2", "red", "second"))}
BY_KEY = {**BOXES, **{b.name: b for b in BOXES.values()}}
BOX: Owner[Box] = Owner("box", "box_id", lambda _conn, key: BY_KEY.get(key))

ADMIN = Principal("admin", Role.ADMIN, None)
BLUE = Principal("blue-member", Role.MEMBER, "blue")


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def test_admins_see_every_project_others_their_own() -> None:
    assert may_see(ADMIN, BOXES["b2"])
    assert may_see(BLUE, BOXES["b1"])
    assert not may_see(BLUE, BOXES["b2"])


def test_a_list_of_another_project_is_empty_for_a_project_bound_caller() -> None:
    assert asks_other_project(BLUE, "red")
    assert not asks_other_project(BLUE, "blue")
    assert not asks_other_project(BLUE, None)  # not filtered: its own project's
    assert not asks_other_project(ADMIN, "red")


def test_an_owner_by_id_or_name(conn: Connection) -> None:
    assert visible_owner(conn, BLUE, BOX, "b1") == BOXES["b1"]
    assert visible_owner(conn, BLUE, BOX, "first") == BOXES["b1"]
    assert visible_owner(conn, ADMIN, BOX, "second") == BOXES["b2"]


@pytest.mark.parametrize("key", ["second", "nothing"])  # another project's, none at all
def test_an_owner_out_of_sight_is_404_or_422_naming_the_field(conn: Connection, key: str) -> None:
    with pytest.raises(NotFound) as found:
        visible_owner(conn, BLUE, BOX, key)
    assert found.value.message == f"box {key!r} not found"
    with pytest.raises(InvalidInput) as invalid:
        visible_owner(conn, BLUE, BOX, key, field="items[2].box")
    assert invalid.value.message == f"items[2].box: no box {key!r}"
    assert invalid.value.field == "items[2].box"


def test_owner_filter_swaps_the_key_for_the_id_column(conn: Connection) -> None:
    filters: dict[str, Any] = {"box": "first", "state": "open"}
    assert owner_filter(conn, BLUE, BOX, filters) == {"box_id": "b1", "state": "open"}
    assert filters == {"box": "first", "state": "open"}  # the caller's dict is left alone
    assert owner_filter(conn, BLUE, BOX, {"state": "open"}) == {"state": "open"}
    with pytest.raises(InvalidInput) as invalid:
        owner_filter(conn, BLUE, BOX, {"box": "second"})
    assert (invalid.value.message, invalid.value.field) == ("box: no box 'second'", "box")


def test_an_owned_row_comes_with_its_owner(conn: Connection) -> None:
    item = Item("i1", "b1")
    assert visible_owned(conn, BLUE, BOX, item, lambda i: i.box_id, kind="item", ident="i1") == (
        item,
        BOXES["b1"],
    )


@pytest.mark.parametrize(
    "item",
    [
        None,  # no such row
        Item("i1", "b2"),  # its owner is another project's
        Item("i1", "gone"),  # its owner is gone
    ],
)
def test_an_owned_row_out_of_sight_is_404_naming_its_kind(
    conn: Connection, item: Item | None
) -> None:
    with pytest.raises(NotFound) as found:
        visible_owned(conn, BLUE, BOX, item, lambda i: i.box_id, kind="stored item", ident="i1")
    assert found.value.message == "stored item 'i1' not found"
