-- A supervisor may stop a ledger key's disbursement (a decision on its payment_returned or
-- awaiting_account task: policy/disbursement_decisions.py); nothing instructs a stopped key again.
ALTER TABLE disbursements DROP CONSTRAINT disbursements_status_check;
ALTER TABLE disbursements ADD CONSTRAINT disbursements_status_check
    CHECK (status IN ('awaiting_account', 'instructed', 'settled', 'returned', 'stopped'));
DROP INDEX disbursements_open;
CREATE INDEX disbursements_open ON disbursements (status) WHERE status NOT IN ('settled', 'stopped');
