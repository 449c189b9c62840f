-- Parameter changes proposed by one supervisor and decided by a second of the same scope
-- (POLICY.md part 2 "Parameter changes with a preview and two pairs of eyes"). A proposal
-- carries its preview (computed by the cases' own rules, app/parameter_preview.py); only an
-- approved one emits `policy.parameter.changed`, through the outbox.
CREATE TABLE parameter_proposals (
    id           bigserial   PRIMARY KEY,
    name         text        NOT NULL,
    value        jsonb       NOT NULL,
    city         text,                      -- NULL = province-wide
    effective_on date        NOT NULL,
    proposer     text        NOT NULL,
    status       text        NOT NULL DEFAULT 'proposed'
                 CHECK (status IN ('proposed', 'approved', 'rejected', 'withdrawn')),
    preview      jsonb,
    previewed_at timestamptz,
    decided_by   text,
    decided_at   timestamptz,
    reason       text,
    event_id     text,                      -- the emitted policy.parameter.changed
    proposed_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'proposed') = (decided_at IS NULL))
);
CREATE INDEX parameter_proposals_open ON parameter_proposals (city, proposed_at) WHERE status = 'proposed';
