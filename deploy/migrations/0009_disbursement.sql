-- Disbursement (POLICY.md part 2, "Disbursement: from ledger row to the payee's account";
-- policy/disbursement.py, activities/disbursement_desk.py).

-- A payee's accounts, one row per version. The number and holder name are sealed by the
-- application (activities/account_vault.py) with the payload keyring: only ciphertext, the key id
-- and the last 4 characters reach the database. An instruction names `payee#version`.
CREATE TABLE payee_accounts (
    payee         text        NOT NULL,
    version       integer     NOT NULL CHECK (version > 0),
    bank          text        NOT NULL,
    key_id        text        NOT NULL,
    number_sealed bytea       NOT NULL,
    holder_sealed bytea       NOT NULL,
    last4         text        NOT NULL CHECK (length(last4) <= 4),
    on_date       date        NOT NULL,
    event_key     text        NOT NULL UNIQUE,  -- source#id: a redelivered event adds no version
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (payee, version)
);

-- Where each paying ledger row stands (policy/disbursement.Disbursement); `version` makes every
-- write a compare-and-set over the state it was computed from.
CREATE TABLE disbursements (
    ledger_key     text        PRIMARY KEY,  -- case_id|program|period|entry|seq
    case_id        text        NOT NULL,
    payee          text        NOT NULL,
    fund           text        NOT NULL,
    city           text,
    amount_fen     bigint      NOT NULL CHECK (amount_fen > 0),
    due_on         date        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('awaiting_account', 'instructed', 'settled', 'returned')),
    since          date        NOT NULL,
    attempt        integer     NOT NULL CHECK (attempt >= 0),
    instruction_id text,
    account_ref    text,
    instructed_on  date,
    reason         text,
    settled_by     text,
    raised         text[]      NOT NULL DEFAULT '{}',
    version        integer     NOT NULL CHECK (version > 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disbursements_open ON disbursements (status) WHERE status <> 'settled';
CREATE INDEX disbursements_payee ON disbursements (payee);

-- The treasury's daily files per (city, fund): open while the day's instructions join them.
CREATE TABLE payment_batches (
    batch_id  text        PRIMARY KEY,
    city      text,
    fund      text        NOT NULL,
    on_date   date        NOT NULL,
    count     integer     NOT NULL DEFAULT 0,
    total_fen bigint      NOT NULL DEFAULT 0,
    closed_at timestamptz
);
CREATE INDEX payment_batches_open ON payment_batches (on_date) WHERE closed_at IS NULL;

-- Every instruction (one per attempt) and the treasury's last answer to it.
CREATE TABLE payment_instructions (
    instruction_id text        PRIMARY KEY,
    ledger_key     text        NOT NULL REFERENCES disbursements (ledger_key),
    attempt        integer     NOT NULL CHECK (attempt > 0),
    account_ref    text        NOT NULL,
    amount_fen     bigint      NOT NULL CHECK (amount_fen > 0),
    batch_id       text        NOT NULL REFERENCES payment_batches (batch_id),
    instructed_on  date        NOT NULL,
    result         text        CHECK (result IN ('settled', 'returned')),
    result_on      date,
    reason         text,
    UNIQUE (ledger_key, attempt)
);

-- A ledger key settled twice: the second payment is money to recover (alert double_settlement).
CREATE TABLE disbursement_recoveries (
    alert_id       text        PRIMARY KEY,
    ledger_key     text        NOT NULL REFERENCES disbursements (ledger_key),
    instruction_id text        NOT NULL,
    amount_fen     bigint      NOT NULL CHECK (amount_fen > 0),
    on_date        date        NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
