-- M2 headcount_drop judged from contribution_facts (issue 16 item 2; streams/headcount_monitor.py).
-- An enterprise's headcount of a month is COUNT(*) over contribution_facts_by_employer (0014):
-- one row per (person, month, employer), so the rows of (employer, month) are its distinct persons.
--
-- What is kept here is only which (enterprise, month M) has been compared with M−1: once the
-- first contributions of M+1 were stored and judged. Why a row of its own instead of "M+1 had no
-- row before this batch": the judging runs after the batch's facts are durable, so a crash in
-- between would leave M+1's rows behind and its redelivery would find "not first" and never
-- judge. A row written after the alert (idempotent on its id) makes the redelivery judge again.
CREATE TABLE headcount_judged (
    employer_id text NOT NULL,
    month       text NOT NULL,   -- M, YYYY-MM
    judged_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (employer_id, month)
);

-- Facts stored before this migration were judged by the stream job as they came (faust's
-- headcount table): every month M whose M+1 has a row counts as judged, so nothing old is
-- compared again when the next batch of its enterprise arrives.
INSERT INTO headcount_judged (employer_id, month)
SELECT DISTINCT employer_id, to_char(to_date(month || '-01', 'YYYY-MM-DD') - interval '1 month', 'YYYY-MM')
  FROM contribution_facts
 WHERE employer_id <> ''
ON CONFLICT DO NOTHING;
