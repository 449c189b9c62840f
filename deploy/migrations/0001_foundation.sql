-- The foundation: inbox, relevance index, case read model, ledger, outbox, tasks, alerts,
-- dead letters, shared facts and the audit trail.

-- Every accepted input event, keyed as CloudEvents dedupe it. A row is written before the
-- event is routed and marked applied only after Temporal accepted it, so a crash between the
-- two leads to a retry, never to a lost event.
CREATE TABLE inbox (
    source      text        NOT NULL,
    event_id    text        NOT NULL,
    type        text        NOT NULL,
    subject     text        NOT NULL,
    event_time  timestamptz NOT NULL,
    topic       text,
    partition   integer,
    kafka_offset bigint,
    state       text        NOT NULL DEFAULT 'received'
                CHECK (state IN ('received', 'applied', 'ignored', 'late')),
    outcome     text,
    received_at timestamptz NOT NULL DEFAULT now(),
    applied_at  timestamptz,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX inbox_unapplied ON inbox (received_at) WHERE state = 'received';

-- Which open cases an event about a key (person/P1, enterprise/E1, ...) can touch. Written by
-- intake in the same transaction as the inbox row of the opening event, so the next event of
-- the same subject (same Kafka partition, processed after) always finds the case.
CREATE TABLE case_keys (
    key      text    NOT NULL,
    case_id  text    NOT NULL,
    kind     text    NOT NULL,
    match    jsonb   NOT NULL DEFAULT '{}'::jsonb,
    open     boolean NOT NULL DEFAULT true,
    PRIMARY KEY (key, case_id)
);
CREATE INDEX case_keys_open ON case_keys (key) WHERE open;

-- The supervisors' read model: one row per case, kept by the workflow's activities.
CREATE TABLE cases (
    case_id       text        PRIMARY KEY,
    kind          text        NOT NULL,
    subject       text        NOT NULL,
    city          text,
    status        text        NOT NULL,
    opened_on     date,
    closed_on     date,
    next_deadline date,
    summary       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version       bigint      NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_kind_city_status ON cases (kind, city, status);
CREATE INDEX cases_subject ON cases (subject);
CREATE INDEX cases_next_deadline ON cases (next_deadline) WHERE closed_on IS NULL;

-- The payment ledger. The primary key is the idempotency key: a retried or replayed payment
-- activity inserts nothing the second time.
CREATE TABLE ledger (
    case_id    text        NOT NULL,
    program    text        NOT NULL,
    period     text        NOT NULL,
    kind       text        NOT NULL,
    payee      text        NOT NULL,
    amount_fen bigint      NOT NULL CHECK (amount_fen > 0),
    fund       text        NOT NULL CHECK (fund IN ('employment_subsidy_fund', 'ui_fund',
                                                    'restructuring_fund', 'local_fund', 'dibao_fund')),
    due_on     date        NOT NULL,
    city       text,
    rule       text,
    paid_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, program, period)
);
CREATE INDEX ledger_city_due ON ledger (city, due_on);
CREATE INDEX ledger_payee ON ledger (payee);

-- Case events for other systems, written in the same transaction as the state they describe
-- and relayed to Kafka (cases.lifecycle, alerts) by the worker's outbox relay.
CREATE TABLE outbox (
    seq          bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    key          text        NOT NULL,
    dedupe_key   text        NOT NULL UNIQUE,
    value        jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- Supervisor tasks raised by cases (follow-up escalations, extra placements, ...).
CREATE TABLE tasks (
    task_id    text        PRIMARY KEY,
    case_id    text        NOT NULL,
    kind       text        NOT NULL,
    city       text,
    due_on     date,
    state      text        NOT NULL DEFAULT 'open',
    details    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    decided_by text,
    decision   jsonb,
    raised_at  timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz
);
CREATE INDEX tasks_open ON tasks (city, due_on) WHERE state = 'open';
CREATE INDEX tasks_case ON tasks (case_id);

CREATE TABLE alerts (
    alert_id   text        PRIMARY KEY,
    kind       text        NOT NULL,
    city       text,
    on_date    date,
    details    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    raised_at  timestamptz NOT NULL DEFAULT now()
);

-- Rejected input records, kept for supervisors to inspect and re-drive once fixed.
CREATE TABLE dead_letters (
    id          bigserial   PRIMARY KEY,
    topic       text,
    partition   integer,
    kafka_offset bigint,
    reason      text        NOT NULL,
    raw         bytea       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    redriven_at timestamptz,
    UNIQUE (topic, partition, kafka_offset)
);

-- Shared facts (epidemic declared/lifted, price linkage, parameter changes) are stored before
-- they fan out, so a case that starts later reads them at its start.
CREATE TABLE shared_facts (
    source     text        NOT NULL,
    event_id   text        NOT NULL,
    type       text        NOT NULL,
    scope      text        NOT NULL,
    on_date    date,
    payload    jsonb       NOT NULL,
    event_time timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, event_id)
);
CREATE INDEX shared_facts_type ON shared_facts (type, scope, event_time);

CREATE TABLE audit (
    id      bigserial   PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text        NOT NULL,
    action  text        NOT NULL,
    case_id text,
    details jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_case ON audit (case_id, at);
