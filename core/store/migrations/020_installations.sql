-- Slack installations and OAuth states. One row per installer and
-- one bot per workspace, or per enterprise for an org-wide install (team_id ''); `data` is the
-- rest of slack_sdk's Installation / Bot as JSON text. Deliveries learn their tenant, so an
-- uninstall forgets them with the rest of the workspace's rows (core/store/tenants.py).
CREATE TABLE slack_installations (
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    is_enterprise_install INTEGER NOT NULL,
    data TEXT NOT NULL,
    installed_at TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, team_id, user_id)
);
CREATE TABLE slack_bots (
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    is_enterprise_install INTEGER NOT NULL,
    data TEXT NOT NULL,
    installed_at TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, team_id)
);
CREATE TABLE slack_oauth_states (
    state TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
ALTER TABLE deliveries ADD COLUMN enterprise_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN team_id TEXT NOT NULL DEFAULT '';
