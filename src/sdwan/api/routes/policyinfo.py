"""/v1/policyinfo: the original's one-action policy resource, on the policy model."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, status

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.schemas.policyinfo import PolicyInfoCreate, PolicyInfoList, PolicyInfoPublic
from sdwan.service.policyinfo import PolicyInfoView

router = APIRouter(prefix="/v1/policyinfo", tags=["policyinfo"])


def _public(view: PolicyInfoView) -> PolicyInfoPublic:
    return PolicyInfoPublic(
        **{k: v for k, v in asdict(view.record).items() if k in PolicyInfoPublic.model_fields},
        host_name=view.host_name,
        mgmt_addr=view.mgmt_addr,
        status=view.status,
        status_detail=view.status_detail,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_policyinfo(
    body: PolicyInfoCreate, principal: PrincipalDep, services: ServicesDep
) -> PolicyInfoPublic:
    """Create (exist=New) or attach (exist=Existing) a policy for one neighbor."""
    return _public(services.policyinfo.create(principal, body))


@router.get("")
def list_policyinfo(
    principal: PrincipalDep, services: ServicesDep, host_name: str | None = None
) -> PolicyInfoList:
    """Every policyinfo record, oldest first."""
    views = services.policyinfo.list(principal, host_name=host_name)
    return PolicyInfoList(items=[_public(v) for v in views], total=len(views))


@router.get("/{row_id}")
def show_policyinfo(
    row_id: str, principal: PrincipalDep, services: ServicesDep
) -> PolicyInfoPublic:
    """One policyinfo record; its status is that of the attachment it made."""
    return _public(services.policyinfo.get(principal, row_id))


@router.delete("/{row_id}", status_code=status.HTTP_202_ACCEPTED)
def delete_policyinfo(
    row_id: str, principal: PrincipalDep, services: ServicesDep
) -> PolicyInfoPublic:
    """Remove the policy from that neighbor on the router (and the policy itself
    with its last policyinfo, if policyinfo created it)."""
    return _public(services.policyinfo.delete(principal, row_id))
