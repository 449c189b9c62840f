-- Limits a payee's total across all cases (§10: an HR service agency's 一次性就业创业服务补助,
-- at most 100,000 yuan per agency). One row per (payee, program) holds the running total; the
-- CHECK is what keeps concurrent cases under the cap: `PgStore.pay_capped` inserts the ledger
-- row and adds its amount to this row in ONE statement, the upsert takes the row lock and adds
-- to the latest committed total, and a total over the cap aborts the whole statement (the
-- ledger row included), after which the store retries with what is left.
CREATE TABLE payee_caps (
    payee      text        NOT NULL,
    program    text        NOT NULL,
    cap_fen    bigint      NOT NULL CHECK (cap_fen >= 0),
    used_fen   bigint      NOT NULL CHECK (used_fen >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payee_caps_within_cap CHECK (used_fen <= cap_fen),
    PRIMARY KEY (payee, program)
);
