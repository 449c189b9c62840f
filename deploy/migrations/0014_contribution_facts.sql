-- Contributions at their natural grain (issue 16 item 2). A province's monthly contribution file
-- is ~20 million records; kept as subject_facts they were two rows each (under person/<id> and
-- enterprise/<id>) plus an inbox row. Here they are one row per (person, month, employer)
-- ('' = the person's own flexible-employment contribution), read under both keys: by person
-- through the primary key, by enterprise and month through contribution_facts_by_employer.
--
-- Why the reports are kept in the row, keyed by the event (source#id), instead of summed: a
-- sum is not idempotent, and a redelivered record would count twice. Merging a report keyed by
-- its event id is: the same record again changes nothing (PgStore skips the write), and a
-- corrected or replacing report (EVENTS.md part 2) is a second entry the readers supersede with
-- exactly as they did when it was a second fact row. Nearly every row holds one report.
CREATE TABLE contribution_facts (
    person_id   text  NOT NULL,
    month       text  NOT NULL,   -- YYYY-MM, as in the event
    employer_id text  NOT NULL,   -- '' when the event names none (flexible employment)
    -- {"<source>#<id>": {"source", "id", "time" (event time, ISO), "on" (fact_on_date or null), "payload"}}
    reports     jsonb NOT NULL,
    PRIMARY KEY (person_id, month, employer_id)
);
CREATE INDEX contribution_facts_by_employer ON contribution_facts (employer_id, month) WHERE employer_id <> '';

-- The contribution facts stored so far move here (each was stored under its person's key; the
-- enterprise rows are the same events again).
INSERT INTO contribution_facts (person_id, month, employer_id, reports)
SELECT payload->>'person_id', payload->>'month', coalesce(payload->>'employer_id', ''),
       jsonb_object_agg(source || '#' || event_id, jsonb_build_object(
           'source', source, 'id', event_id, 'time', to_jsonb(event_time), 'on', to_jsonb(on_date), 'payload', payload))
  FROM subject_facts
 WHERE type = 'contribution.paid' AND key LIKE 'person/%'
 GROUP BY 1, 2, 3;
DELETE FROM subject_facts WHERE type = 'contribution.paid';
