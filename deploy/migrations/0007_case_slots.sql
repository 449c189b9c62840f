-- Limits on how many cases may hold something across all cases (POLICY.md part 2: K13's three
-- subsidised loans per borrower, K14's three training subsidies a year and one per occupation
-- and level, K16's ten provincial slots a year). A case takes a slot of a scope (e.g.
-- `loans/person/P1`) once it is otherwise eligible; a scope never holds more than its limit.
-- `PgStore.take_slot` serialises the takers of one scope with a transaction-scoped advisory
-- lock on the scope, counts, and inserts, so concurrent cases can never pass the limit; the
-- primary key makes a retried take (the same case) a no-op that answers as the first did.
CREATE TABLE case_slots (
    scope    text        NOT NULL,
    holder   text        NOT NULL,  -- the case id
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, holder)
);
