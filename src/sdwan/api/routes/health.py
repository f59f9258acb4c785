"""Liveness, without authentication."""

from fastapi import APIRouter

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The server is up."""
    return {"status": "ok"}
