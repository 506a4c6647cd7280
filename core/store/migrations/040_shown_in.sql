-- Where a front end shows a run and the ids of the messages it posted
-- for it (JSON, opaque to the store), written right after each post: whichever process
-- executes the run next (a job on another replica, a takeover) edits those messages instead of
-- posting new ones.
ALTER TABLE runs ADD COLUMN shown_in TEXT;
