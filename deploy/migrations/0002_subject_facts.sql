-- Facts about people and enterprises (registrations, categories, households, 低保, referrals,
-- placements, contributions that matter), stored by intake before routing so that a case that
-- starts later, or a rule like K12 that looks back over months, can read them.
CREATE TABLE subject_facts (
    key        text        NOT NULL,   -- person/<id>, enterprise/<id>, household/<id>
    source     text        NOT NULL,
    event_id   text        NOT NULL,
    type       text        NOT NULL,
    on_date    date,
    payload    jsonb       NOT NULL,
    event_time timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, source, event_id)
);
CREATE INDEX subject_facts_key_type ON subject_facts (key, type, event_time);
