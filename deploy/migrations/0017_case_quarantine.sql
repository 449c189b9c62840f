-- Per-case quarantine (issue 18 item 4): an event that reached a case and was refused there (a
-- placement while the person is still placed, a claim while one is open, an event for a case
-- that closed before it arrived) is kept against THAT case, so its page shows it and a
-- supervisor re-drives or dismisses it. The record itself is kept as it came (value and Kafka
-- headers), so a re-drive delivers the same event (same source and id) again; topic, partition
-- and offset name the dead letter the same record may also be (a case-named Reject).
CREATE TABLE IF NOT EXISTS quarantined_events (
    id            bigserial   PRIMARY KEY,
    case_id       text        NOT NULL,
    source        text        NOT NULL,
    event_id      text        NOT NULL,
    type          text        NOT NULL,
    subject       text        NOT NULL,
    event_time    timestamptz NOT NULL,
    reason        text        NOT NULL,
    topic         text,
    partition     integer,
    kafka_offset  bigint,
    raw           bytea       NOT NULL,
    header_names  text[]      NOT NULL DEFAULT '{}',
    header_values bytea[]     NOT NULL DEFAULT '{}',
    status        text        NOT NULL DEFAULT 'quarantined'
                  CHECK (status IN ('quarantined', 'redriven', 'dismissed')),
    -- Who decided (re-drive or dismiss), when, why, and what a re-drive came to.
    decided_by    text,
    decided_at    timestamptz,
    decision_reason text,
    outcome       text,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    -- One row per refused event and case: a redelivery refused again updates it.
    UNIQUE (case_id, source, event_id)
);
CREATE INDEX IF NOT EXISTS quarantined_events_by_case ON quarantined_events (case_id, quarantined_at);
