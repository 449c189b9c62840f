-- Corrections (POLICY.md part 2, "What a case owes, and corrections"; EVENTS.md "Ledger"): a fact
-- that changes a period already paid adds a row — arrears, overpayment, or the deduction that
-- recovers an overpayment — and never edits one. Every existing row is an original payment.
ALTER TABLE ledger ADD COLUMN entry text NOT NULL DEFAULT 'payment'
    CHECK (entry IN ('payment', 'arrears', 'overpayment', 'deduction'));
-- The n-th correction of a (case, program, period) and entry; 0 for the original payment.
ALTER TABLE ledger ADD COLUMN seq integer NOT NULL DEFAULT 0 CHECK (seq >= 0);
-- The period a correction corrects (for a deduction: the overpaid period it recovers), and the
-- event (`source#id`) whose fact caused it.
ALTER TABLE ledger ADD COLUMN corrects text;
ALTER TABLE ledger ADD COLUMN cause text;
ALTER TABLE ledger ADD CONSTRAINT ledger_original_or_correction
    CHECK ((entry = 'payment') = (seq = 0) AND (entry = 'payment') = (corrects IS NULL));

ALTER TABLE ledger DROP CONSTRAINT ledger_pkey;
ALTER TABLE ledger ADD PRIMARY KEY (case_id, program, period, entry, seq);
-- The idempotency key of a payment stays (case, program, period): one original row each.
CREATE UNIQUE INDEX ledger_original ON ledger (case_id, program, period) WHERE entry = 'payment';

-- The funds of POLICY.md part 2 (§22 skills upgrading, inclusive finance for loan interest).
ALTER TABLE ledger DROP CONSTRAINT ledger_fund_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_fund_check CHECK (fund IN (
    'employment_subsidy_fund', 'ui_fund', 'restructuring_fund', 'local_fund', 'dibao_fund',
    'skills_upgrading_fund', 'inclusive_finance_fund'));
