-- Funds, budgets and forecasts (POLICY.md part 2 §22).

-- Each open case's schedule: what it will pay per (program, period) if no new fact arrives. The
-- case replaces its rows at every change (PgStore.record_schedule); a closed case has none. The
-- forecast of a city, fund and month is a sum over these rows.
CREATE TABLE IF NOT EXISTS case_schedules (
    case_id    text    NOT NULL,
    program    text    NOT NULL,
    period     text    NOT NULL,
    kind       text    NOT NULL,
    city       text,
    fund       text    NOT NULL,
    due_on     date    NOT NULL,
    amount_fen bigint  NOT NULL CHECK (amount_fen > 0),
    on_date    date    NOT NULL,  -- the business day the case computed it
    PRIMARY KEY (case_id, program, period)
);
CREATE INDEX IF NOT EXISTS case_schedules_city_fund_due ON case_schedules (city, fund, due_on);

-- `fund.budget_set`: one budget per city, fund and year; the event later in business time
-- replaces an earlier one whatever order they arrive in.
CREATE TABLE IF NOT EXISTS fund_budgets (
    city       text        NOT NULL,
    fund       text        NOT NULL,
    year       integer     NOT NULL,
    amount_fen bigint      NOT NULL CHECK (amount_fen >= 0),
    event_key  text        NOT NULL,  -- source#id of the event that set it
    event_time timestamptz NOT NULL,
    set_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (city, fund, year)
);

-- Spend by city, fund and instruction month reads the disbursements still instructed or settled.
CREATE INDEX IF NOT EXISTS disbursements_spend ON disbursements (city, fund, instructed_on)
    WHERE status IN ('instructed', 'settled');
