"""Query parameters shared by the list endpoints: bounded, so that no value reaches the
database as an integer it cannot hold (SQLite's are 64-bit); out of range is a 422
naming the parameter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from sdwan.domain import values

MAX_OFFSET = 10**9
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="items per page")]
AsnQuery = Annotated[int | None, Query(ge=values.ASN_MIN, le=values.ASN_MAX)]
