"""A process that runs one request through the real runtime (CRANE_DB, CRANE_MCP_CONFIG), as
Slack or REST would: with approval, approved by its requester. A test kills it with -9 while
the MCP call is in flight (the server has counted it; its result is not recorded)."""

from __future__ import annotations

import os
import sys

from core.app import build
from core.plan import RunStatus, Scope

# the requester: CRASH_SCOPE="enterprise:team:user" (a Slack test clicks as that user)
enterprise, team, user = os.environ.get("CRASH_SCOPE", ":T1:U1").split(":")
ME = Scope(enterprise_id=enterprise, team_id=team, user_id=user)

if __name__ == "__main__":
    crane = build(recover=False)
    text, plan = crane.plan(ME, sys.argv[1])
    run = crane.start(ME, text, plan, approval=True)
    print(run.id, flush=True)
    if crane.execute(run.id).status is RunStatus.awaiting_approval:
        crane.decide(run.id, ME, "approve")
        crane.execute(run.id)
