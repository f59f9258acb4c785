"""The fleet file, validated with the API's own create schemas, so a file and a POST
accept exactly the same things. Errors name the object: routers[0].neighbors[2].peer_asn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sdwan.domain.intent import strip_none
from sdwan.domain.values import default_families
from sdwan.errors import InvalidInput
from sdwan.schemas.common import Patch
from sdwan.schemas.neighbors import NeighborCreate, NeighborUpdate
from sdwan.schemas.policy import (
    AnnouncementCreate,
    AnnouncementUpdate,
    AttachmentCreate,
    AttachmentUpdate,
    DefinedSetCreate,
    DefinedSetUpdate,
    PolicyCreate,
    PolicyUpdate,
)
from sdwan.schemas.routers import RouterCreate, RouterUpdate

ModelT = TypeVar("ModelT", bound=BaseModel)
PatchT = TypeVar("PatchT", bound=Patch)
MAX_ROUTERS = 1000  # routers in one fleet file
MAX_PER_SECTION = 10_000  # neighbors (or sets, policies...) of one router in one file


@dataclass(frozen=True)
class Kind:
    name: str  # "neighbor"
    section: str  # key in the file: "neighbors"
    key: str  # identifying field within a router
    schema: type[BaseModel]  # the create body: what the file gives for one
    patch: type[Patch]  # the patch body: what may change in place
    # fields compared and exported (the schema's, minus the router reference)
    skip: tuple[str, ...] = ("router",)

    def fields(self) -> list[str]:
        return [f for f in self.schema.model_fields if f not in self.skip]

    def default(self, field_name: str) -> Any:
        return self.schema.model_fields[field_name].get_default(call_default_factory=True)


ROUTER = Kind("router", "routers", "name", RouterCreate, RouterUpdate, skip=("project",))
OWNED_KINDS = (
    Kind(
        "neighbor",
        "neighbors",
        "address",
        NeighborCreate,
        NeighborUpdate,
        skip=("router", "api_address"),
    ),
    Kind("defined set", "defined_sets", "name", DefinedSetCreate, DefinedSetUpdate),
    Kind("policy", "policies", "name", PolicyCreate, PolicyUpdate),
    Kind("attachment", "attachments", "name", AttachmentCreate, AttachmentUpdate),
    Kind("announcement", "announcements", "prefix", AnnouncementCreate, AnnouncementUpdate),
)


@dataclass
class RouterSpec:
    values: dict[str, Any]  # router fields, as RouterCreate dumps them
    owned: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # section -> key -> values (as the kind's schema dumps them, router removed)
    given: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # section -> key -> fields written in the file (password is only set if given)


def normalize(kind: Kind, values: Mapping[str, Any], router: str) -> dict[str, Any]:
    """``values`` as the kind's schema would store them: the one form compared."""
    data = {k: v for k, v in values.items() if k in kind.schema.model_fields}
    if "router" in kind.schema.model_fields:
        data["router"] = router
    dumped = _validate(kind.schema, data, kind.name)
    dumped.pop("router", None)
    if kind.section == "neighbors" and dumped.get("families") is None:
        dumped["families"] = default_families(dumped["address"])
    return dumped


def create_body(schema: type[ModelT], values: Mapping[str, Any]) -> ModelT:
    """The create body a service takes, from a planned object's values (no nulls:
    they mean "the default")."""
    return model_of(schema, writable(values), "")


def patch_body(schema: type[PatchT], changes: Mapping[str, Any]) -> PatchT:
    """The patch body a service takes for a planned update; a field the patch body
    does not name is fixed once created: 422 naming it."""
    for name in changes:
        if name not in schema.model_fields:
            raise InvalidInput(f"{name}: cannot be changed; delete and create instead", field=name)
    return model_of(schema, dict(changes), "")


def writable(values: Mapping[str, Any]) -> dict[str, Any]:
    """What a service create takes: no nulls (they mean "the default")."""
    return {k: strip_none(v) for k, v in values.items() if v is not None}


def _validate(schema: type[BaseModel], data: Any, where: str) -> dict[str, Any]:
    return model_of(schema, data, where).model_dump(mode="json")


def model_of(schema: type[ModelT], data: Any, where: str) -> ModelT:
    """``data`` as ``schema``; InvalidInput naming the field (``where.field``) if not."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where}: expected a mapping of fields", field=where)
    try:
        return schema.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        if first.get("type") == "extra_forbidden":
            message = "unknown field"
        path = ".".join(part for part in (where, loc) if part)
        raise InvalidInput(f"{path}: {message}", field=path) from None


def parse_fleet(document: Any) -> list[RouterSpec]:
    """The file's routers; InvalidInput naming the object on any error."""
    if not isinstance(document, Mapping) or set(document) - {
        "routers",
        "sites",
        "sla_classes",
        "version",
    }:
        raise InvalidInput(
            "the file must be a mapping with 'routers', 'sites' and/or 'sla_classes' (and "
            "optionally 'version: 1')",
            field="routers",
        )
    if document.get("version", 1) != 1:
        raise InvalidInput("version: only version 1 is known", field="version")
    routers = document.get("routers") or []
    if not isinstance(routers, list):
        raise InvalidInput("routers: expected a list", field="routers")
    if len(routers) > MAX_ROUTERS:
        raise InvalidInput(f"routers: at most {MAX_ROUTERS} per file", field="routers")
    specs: list[RouterSpec] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(routers):
        where = f"routers[{index}]"
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"{where}: expected a mapping", field=where)
        sections = {k.section for k in OWNED_KINDS}
        top = {k: v for k, v in raw.items() if k not in sections}
        values = _validate(RouterCreate, top, where)
        name = values["name"]
        if name in seen:
            raise InvalidInput(
                f"{where}.name: router {name} also appears as routers[{seen[name]}]",
                field=f"{where}.name",
            )
        seen[name] = index
        spec = RouterSpec(values)
        for kind in OWNED_KINDS:
            spec.owned[kind.section], spec.given[kind.section] = _owned(
                kind, raw.get(kind.section) or [], name, f"{where}.{kind.section}"
            )
        specs.append(spec)
    return specs


def _owned(
    kind: Kind, items: Any, router: str, where: str
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    if not isinstance(items, list):
        raise InvalidInput(f"{where}: expected a list", field=where)
    if len(items) > MAX_PER_SECTION:
        raise InvalidInput(f"{where}: at most {MAX_PER_SECTION} per router", field=where)
    found: dict[str, dict[str, Any]] = {}
    given: dict[str, set[str]] = {}
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if isinstance(item, Mapping) and "router" in item:
            raise InvalidInput(
                f"{at}.router: not needed: it belongs to the router it is listed under",
                field=f"{at}.router",
            )
        values = _validate(
            kind.schema, {**(item if isinstance(item, Mapping) else {}), "router": router}, at
        )
        values.pop("router", None)
        if kind.section == "neighbors" and values.get("families") is None:
            values["families"] = default_families(values["address"])
        key = values[kind.key]
        if key in found:
            raise InvalidInput(
                f"{at}.{kind.key}: {kind.name} {key!r} appears twice on router {router}",
                field=f"{at}.{kind.key}",
            )
        found[key] = values
        given[key] = set(item) if isinstance(item, Mapping) else set()
    return found, given
