-- A binary-mode CloudEvent (CloudEvents Kafka binding) carries its attributes in Kafka headers:
-- a dead letter keeps them beside the original value, in order, so it can be re-driven as it came.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS header_names text[] NOT NULL DEFAULT '{}';
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS header_values bytea[] NOT NULL DEFAULT '{}';
