"""GET /api/v1/usage: the caller's own usage per UTC day, and their workspace's totals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import Caller
from core.reads import Reads


def usage_router(reads: Reads, limits: dict[str, Any]) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["usage"])

    @router.get("/usage")
    def usage(caller: Caller, days: Annotated[int, Query(ge=1, le=366)] = 7) -> dict[str, Any]:
        """`items`: the caller's rows (one per day with usage, newest first); `workspace`: the
        workspace's totals per day (`user` null); `limits`: the limits in force (null: off)."""
        team, org = caller.team_id, caller.enterprise_id
        return {
            "items": reads.usage(days, caller.user_id, team, org),
            "workspace": reads.usage(days, None, team, org, by_user=False),
            "limits": limits,
        }

    return router
