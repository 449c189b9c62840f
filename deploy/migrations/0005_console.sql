-- The supervisor console (docs/CONSOLE.md): indexes for its filters and sorts at 100,000+
-- cases, the supervisor hold mirrored into the read model, and who did what in the audit.

-- Case list: per city or province-wide, newest first / soonest deadline first, paged.
-- Plain ascending indexes: scanned backwards they serve "newest first" too (the service sorts
-- with PostgreSQL's default null placement so that both directions match).
CREATE INDEX IF NOT EXISTS cases_city_opened ON cases (city, opened_on, case_id);
CREATE INDEX IF NOT EXISTS cases_opened ON cases (opened_on, case_id);
CREATE INDEX IF NOT EXISTS cases_city_deadline ON cases (city, next_deadline, case_id) WHERE closed_on IS NULL;
CREATE INDEX IF NOT EXISTS cases_closed ON cases (city, closed_on) WHERE closed_on IS NOT NULL;
-- Dashboard counts per city, kind and status (index-only).
CREATE INDEX IF NOT EXISTS cases_city_kind_status ON cases (city, kind, status);
-- "Has an open task" and the task inbox.
CREATE INDEX IF NOT EXISTS tasks_open_case ON tasks (case_id) WHERE state = 'open';
CREATE INDEX IF NOT EXISTS tasks_state_due ON tasks (state, due_on);
-- The person/enterprise filter looks up every case a key was registered for (open or not).
CREATE INDEX IF NOT EXISTS case_keys_case ON case_keys (case_id);

-- A supervisor's hold ({reason, by, since}) as the workflow reports it; NULL when not held.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS hold jsonb;

-- Who acted: the token's role and city beside its subject (actor).
ALTER TABLE audit ADD COLUMN IF NOT EXISTS role text;
ALTER TABLE audit ADD COLUMN IF NOT EXISTS city text;
CREATE INDEX IF NOT EXISTS audit_at ON audit (at DESC);

ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS redriven_by text;
CREATE INDEX IF NOT EXISTS dead_letters_pending ON dead_letters (id) WHERE redriven_at IS NULL;
