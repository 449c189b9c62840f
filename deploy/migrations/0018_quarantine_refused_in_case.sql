-- Refusals decided inside a case's workflow (issue 18 item 4): an event the case received and
-- did not take (a late fact after which "the decision stands", an event after its window for
-- late facts, a second provincial application...) is quarantined on the case like the intake's
-- refusals. `origin` says who refused it, which decides how a re-drive reaches the case: an
-- intake refusal never reached the workflow and is routed again (Intake.redeliver); a workflow
-- refusal is offered to the case again by its `redrive` update (the case saw its id already,
-- so a plain redelivery would be dropped). `rule` is the rule the case named, if any. For a
-- workflow refusal `raw` is the event as the case received it (contracts.cases.CaseEvent as
-- JSON) and topic, partition and offset are null.
ALTER TABLE quarantined_events
    ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'intake' CHECK (origin IN ('intake', 'workflow')),
    ADD COLUMN IF NOT EXISTS rule text;
