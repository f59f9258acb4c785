"""The live-state service as a request dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sdwan.service.live import LiveService


def get_live(request: Request) -> LiveService:
    live: LiveService = request.app.state.live
    return live


LiveDep = Annotated[LiveService, Depends(get_live)]
