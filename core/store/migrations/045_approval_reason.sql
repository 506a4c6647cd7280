-- Why a question was asked: before a destructive step ('destructive'), or after a crash left
-- an MCP call's outcome unknown ('outcome_unknown'; 'repeated' once the approved repeat
-- started, so a second crash asks again instead of repeating silently).
ALTER TABLE approvals ADD COLUMN reason TEXT NOT NULL DEFAULT 'destructive';
