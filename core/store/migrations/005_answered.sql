-- 0 while a run planned from a received Slack request still owes its
-- requester the answer (core/store/intake.py); 1 for every other run.
ALTER TABLE runs ADD COLUMN answered INTEGER NOT NULL DEFAULT 1;
