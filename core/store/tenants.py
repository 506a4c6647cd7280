"""Forgetting a tenant: when Crane is uninstalled from a workspace (or an org), every row of
it goes, in one transaction.

TENANT_TABLES lists every table holding a tenant's rows; a test checks that each table with a
`team_id` column is in it, so a table added later cannot be forgotten by an uninstall. Children
come before the tables they reference (foreign keys are on).
"""

from __future__ import annotations

from core.store.conn import Conn

TENANT_TABLES = (
    "run_events",
    "steps",
    "idempotency",
    "approvals",
    "feedback",
    "runs",
    "conversations",
    "todos",
    "todo_counters",
    "usage_days",
    "run_minutes",
    "intake",
    "deliveries",
    "slack_installations",
    "slack_bots",
)


def forget(conn: Conn, enterprise_id: str, team_id: str | None) -> dict[str, int]:
    """Delete a workspace's rows (`team_id`; Slack's team ids are unique across orgs), or with
    team_id None an org-wide install's: every row of the enterprise, all its workspaces.
    Returns how many rows went, per table."""
    if team_id is not None:
        if not team_id:
            raise ValueError("forgetting a workspace needs its team id")
        where, key = "team_id = ?", team_id
    else:
        if not enterprise_id:
            raise ValueError("forgetting an org needs its enterprise id")
        where, key = "enterprise_id = ?", enterprise_id
    return {
        table: conn.execute(f"DELETE FROM {table} WHERE {where}", (key,)).rowcount
        for table in TENANT_TABLES
    }
