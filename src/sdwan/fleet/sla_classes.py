"""The fleet file's ``sla_classes`` section: SLA classes, planned against the store,
applied through the SLA class service in the fleet's one transaction (before the
sites, whose intents name them; deletions after), and exported. A class is in the
caller's project unless its entry names another (``project:``, admins only);
``--prune`` deletes the classes of those projects the section does not list (a file
without the section leaves classes alone)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection

from sdwan.auth.principal import Principal
from sdwan.domain.sla import SlaClassSpec
from sdwan.errors import Conflict, InvalidInput, PermissionDenied
from sdwan.fleet.model import create_body, model_of, patch_body
from sdwan.fleet.plan import Change
from sdwan.schemas.quality import SlaClassCreate, SlaClassUpdate
from sdwan.service.sla_classes import SlaClassService
from sdwan.store import sla_repo

MAX_CLASSES = 1000
KIND = "sla class"


@dataclass(frozen=True)
class ClassFile:
    index: int
    project: str
    values: dict[str, Any]  # SlaClassSpec as dumped

    @property
    def key(self) -> tuple[str, str]:
        return self.project, self.values["name"]


def parse_classes(document: Any, principal: Principal) -> list[ClassFile] | None:
    """The section's classes; None when the file has no ``sla_classes`` section."""
    if not isinstance(document, Mapping) or "sla_classes" not in document:
        return None
    items = document.get("sla_classes") or []
    if not isinstance(items, list):
        raise InvalidInput("sla_classes: expected a list", field="sla_classes")
    if len(items) > MAX_CLASSES:
        raise InvalidInput(f"sla_classes: at most {MAX_CLASSES} per file", field="sla_classes")
    out: list[ClassFile] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(items):
        where = f"sla_classes[{index}]"
        entry = model_of(SlaClassCreate, raw, where)
        project = entry.project or principal.write_project
        if not principal.is_admin and project != principal.project_id:
            raise PermissionDenied(
                f"{where}.project: {principal.name} may declare SLA classes only in project "
                f"{principal.project_id}"
            )
        spec = ClassFile(index, project, _dumped(entry))
        if spec.key in seen:
            raise InvalidInput(
                f"{where}.name: SLA class {spec.values['name']} of project {project} also "
                f"appears as sla_classes[{seen[spec.key]}]",
                field=f"{where}.name",
            )
        seen[spec.key] = index
        out.append(spec)
    return out


def _dumped(model: BaseModel) -> dict[str, Any]:
    """A class's own fields (SlaClassSpec's) as the plan compares them."""
    return {
        k: v for k, v in model.model_dump(mode="json").items() if k in SlaClassSpec.model_fields
    }


def _stored(
    conn: Connection, projects: set[str]
) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(project, name) -> (id, fields in file form) of the stored classes of ``projects``."""
    found: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for project in sorted(projects):
        rows, _total = sla_repo.list_classes(
            conn, project_id=project, filters={}, sort=None, limit=MAX_CLASSES, offset=0
        )
        for row in rows:
            values = {k: getattr(row, k) for k in SlaClassSpec.model_fields}
            found[(project, row.name)] = (row.id, _dumped(SlaClassSpec.model_validate(values)))
    return found


def plan_classes(
    conn: Connection, principal: Principal, specs: list[ClassFile] | None, *, prune: bool
) -> list[Change]:
    if specs is None:
        return []
    projects = {s.project for s in specs} or {principal.write_project}
    have = _stored(conn, projects)
    effect = "the probe agents measuring its intents' uplinks get the new limits"
    changes: list[Change] = []
    for spec in specs:
        project, name = spec.key
        if spec.key not in have:
            changes.append(Change("create", KIND, project, name, values=spec.values))
            continue
        ident, old = have[spec.key]
        diff = {k: [old.get(k), v] for k, v in spec.values.items() if old.get(k) != v}
        if diff:
            changes.append(
                Change("update", KIND, project, name, id=ident, fields=diff, effect=effect)
            )
    if prune:
        wanted = {s.key for s in specs}
        for key, (ident, _old) in sorted(have.items()):
            if key not in wanted:
                changes.append(Change("delete", KIND, key[0], key[1], id=ident))
    return changes


class ClassApplier:
    """Runs a plan's class changes through the service (inside the fleet's unit of work);
    errors name the entry: ``sla_classes[0].loss_pct: ...``."""

    def __init__(self, service: SlaClassService) -> None:
        self._service = service

    def upserts(self, principal: Principal, changes: list[Change], specs: list[ClassFile]) -> None:
        by_key = {s.key: s for s in specs}
        for change in changes:
            if change.kind != KIND or change.action == "delete":
                continue
            spec = by_key[(change.router, change.key)]
            try:
                if change.action == "create":
                    body = {**spec.values, "project": spec.project}
                    self._service.create(principal, create_body(SlaClassCreate, body))
                else:
                    assert change.id is not None  # an update of a stored class
                    update = patch_body(SlaClassUpdate, {k: v[1] for k, v in change.fields.items()})
                    self._service.update(principal, change.id, changes=update, if_match=None)
            except (InvalidInput, Conflict) as exc:
                where = f"sla_classes[{spec.index}]"
                path = f"{where}.{exc.field}" if exc.field else where
                raise type(exc)(f"{path}: {exc.message.split(': ', 1)[-1]}", field=path) from None

    def deletes(self, principal: Principal, changes: list[Change]) -> None:
        for change in changes:
            if change.kind == KIND and change.action == "delete":
                assert change.id is not None
                self._service.delete(principal, change.id, if_match=None)


def export_classes(
    conn: Connection, principal: Principal, names: set[str] | None = None
) -> list[dict[str, Any]]:
    """The visible classes (with ``names``: those named so), defaults left out; an entry
    names its project when it is not the caller's."""
    rows, _total = sla_repo.list_classes(
        conn,
        project_id=principal.project_id,
        filters={},
        sort="project,name",
        limit=MAX_CLASSES,
        offset=0,
    )
    out = []
    for row in rows:
        if names is not None and row.name not in names:
            continue
        values = _dumped(
            SlaClassSpec.model_validate({k: getattr(row, k) for k in SlaClassSpec.model_fields})
        )
        entry = {
            k: v
            for k, v in values.items()
            if k == "name" or v != SlaClassSpec.model_fields[k].get_default()
        }
        if row.project_id != principal.write_project:
            entry["project"] = row.project_id
        out.append(entry)
    return out
