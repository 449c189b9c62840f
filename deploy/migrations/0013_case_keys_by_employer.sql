-- The routed cases of an employer (open, or closed and still listening), for the rare event that
-- names only the enterprise of cases keyed by their persons (a K15 hire and `si.fee_exemption`,
-- PgStore.employer_cases). Partial: only rows with an employer match, and only routed ones.
CREATE INDEX IF NOT EXISTS case_keys_by_employer ON case_keys ((match->>'employer_id'))
    WHERE match ? 'employer_id' AND (open OR listening_until IS NOT NULL);
