"""Slack installations and OAuth states, for installing into many workspaces.

The store keeps them as plain values: the tenant key (enterprise, team — '' for an org-wide
install — and installer) in columns, everything else slack_sdk knows about an installation as
JSON text, tokens included. The bot layer maps them to slack_sdk's models and keeps each bot
token in `slack_bots` only, so revoking it leaves no copy behind; core stays Slack-free.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from core.plan import iso
from core.store.conn import Backend


class Installations:
    def __init__(self, db: Backend, clock: Callable[[], datetime]) -> None:
        self._db = db
        self.clock = clock

    def save_installation(
        self, enterprise_id: str, team_id: str, user_id: str, enterprise_wide: bool, data: str
    ) -> None:
        """The installer's installation; a reinstall replaces it (newest tokens win)."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO slack_installations (enterprise_id, team_id, user_id, "
                "is_enterprise_install, data, installed_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (enterprise_id, team_id, user_id) DO UPDATE SET "
                "is_enterprise_install = excluded.is_enterprise_install, data = excluded.data, "
                "installed_at = excluded.installed_at",
                (enterprise_id, team_id, user_id, int(enterprise_wide), data, iso(self.clock())),
            )

    def save_bot(self, enterprise_id: str, team_id: str, enterprise_wide: bool, data: str) -> None:
        """The workspace's (or org's) bot; a reinstall or a token refresh replaces it."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO slack_bots (enterprise_id, team_id, is_enterprise_install, data, "
                "installed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (enterprise_id, team_id) "
                "DO UPDATE SET is_enterprise_install = excluded.is_enterprise_install, "
                "data = excluded.data, installed_at = excluded.installed_at",
                (enterprise_id, team_id, int(enterprise_wide), data, iso(self.clock())),
            )

    def find_bot(self, enterprise_id: str, team_id: str) -> str | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT data FROM slack_bots WHERE enterprise_id = ? AND team_id = ?",
                (enterprise_id, team_id),
            ).fetchone()
        return str(row["data"]) if row else None

    def find_installation(
        self, enterprise_id: str, team_id: str, user_id: str | None
    ) -> str | None:
        """This installer's installation, or (user None) the workspace's latest."""
        where, params = "enterprise_id = ? AND team_id = ?", [enterprise_id, team_id]
        if user_id is not None:
            where, params = where + " AND user_id = ?", [*params, user_id]
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT data FROM slack_installations WHERE {where} "
                "ORDER BY installed_at DESC, user_id LIMIT 1",
                params,
            ).fetchone()
        return str(row["data"]) if row else None

    def installed(self, enterprise_id: str, team_id: str) -> bool:
        """Whether a bot is installed for this workspace, itself or org-wide."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM slack_bots WHERE (enterprise_id = ? AND team_id = ?) "
                "OR (enterprise_id = ? AND enterprise_id <> '' AND team_id = '')",
                (enterprise_id, team_id, enterprise_id),
            ).fetchone()
        return row is not None

    def delete_bot(self, enterprise_id: str, team_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(
                "DELETE FROM slack_bots WHERE enterprise_id = ? AND team_id = ?",
                (enterprise_id, team_id),
            )

    def delete_installation(self, enterprise_id: str, team_id: str, user_id: str | None) -> None:
        """Forget one installer's installation (user token and all), or every one (user None)."""
        where, params = "enterprise_id = ? AND team_id = ?", [enterprise_id, team_id]
        if user_id is not None:
            where, params = where + " AND user_id = ?", [*params, user_id]
        with self._db.write() as conn:
            conn.execute(f"DELETE FROM slack_installations WHERE {where}", params)

    def issue_state(self, state: str, lifetime: timedelta) -> None:
        """Remember a new OAuth state until it expires; expired ones are dropped here."""
        now = self.clock()
        with self._db.write() as conn:
            conn.execute("DELETE FROM slack_oauth_states WHERE expires_at < ?", (iso(now),))
            conn.execute(
                "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)",
                (state, iso(now + lifetime)),
            )

    def consume_state(self, state: str) -> bool:
        """True once for a state issued here and not yet expired; never again (no replay)."""
        with self._db.write() as conn:
            row = conn.execute(
                "DELETE FROM slack_oauth_states WHERE state = ? RETURNING expires_at", (state,)
            ).fetchone()
        return row is not None and datetime.fromisoformat(row["expires_at"]) >= self.clock()
