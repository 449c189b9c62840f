-- Netting (POLICY.md part 2: an overpayment is recovered by deduction from the same payee's later
-- payments of the same fund; policy/disbursement.net_late_deductions). Every fen of a `deduction`
-- ledger row that an instruction's amount was reduced by, and the key it was netted against: a
-- deduction written before its payment was taken nets against that payment; one written after
-- (a late deduction) nets against the payee's next keys of the fund. The sum per deduction never
-- exceeds the deduction's amount (activities/pg_store.py checks it under the ledger row's lock),
-- so a deduction is neither lost nor taken twice.
CREATE TABLE disbursement_nettings (
    deduction_key text   NOT NULL,  -- the deduction row's ledger key (case_id|program|period|deduction|seq)
    ledger_key    text   NOT NULL REFERENCES disbursements (ledger_key),
    amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
    PRIMARY KEY (deduction_key, ledger_key)
);
CREATE INDEX disbursement_nettings_key ON disbursement_nettings (ledger_key);
-- The desk asks for the open deductions of each batch of due rows' payees; deductions are few.
CREATE INDEX ledger_deductions_by_payee ON ledger (payee) WHERE entry = 'deduction';
