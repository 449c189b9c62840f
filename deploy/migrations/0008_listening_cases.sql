-- A closed case still taking late facts (POLICY.md part 2: `ledger.correction_days` after it
-- closed, `intake.late_fact_days` after a decision taken without a fact): its keys stay routable
-- through this business day, flagged apart from open ones; NULL once the window ended (the
-- workflow clears it) and for every row written before. Every existing row is kept as it is.
ALTER TABLE case_keys ADD COLUMN IF NOT EXISTS listening_until date;
CREATE INDEX IF NOT EXISTS case_keys_routed ON case_keys (key) WHERE open OR listening_until IS NOT NULL;
-- The listening cases of some kinds, for a shared fact (a backdated parameter change) fanned out.
CREATE INDEX IF NOT EXISTS case_keys_listening ON case_keys (case_id) WHERE listening_until IS NOT NULL;
