"""A process that runs one request through the real runtime (CRANE_DB, CRANE_MCP_CONFIG), as
Slack or REST would: with approval, approved by its requester. A test kills it with -9 while
the MCP call is in flight (the server has counted it; its result is not recorded)."""

from __future__ import annotations

import sys

from core.app import build
from core.plan import RunStatus, Scope

ME = Scope(team_id="T1", user_id="U1")

if __name__ == "__main__":
    crane = build(recover=False)
    text, plan = crane.plan(ME, sys.argv[1])
    run = crane.start(ME, text, plan, approval=True)
    print(run.id, flush=True)
    if crane.execute(run.id).status is RunStatus.awaiting_approval:
        crane.decide(run.id, ME, "approve")
        crane.execute(run.id)
