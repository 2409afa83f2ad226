/*
 * zorina.days_between(earlier, later) -> integer
 * "days between two instants" of the contract: whole 86400-second days, floored.
 * Independent of time zones and DST on purpose. IMMUTABLE SQL so the planner inlines it.
 */
CREATE OR REPLACE FUNCTION zorina.days_between(earlier timestamptz, later timestamptz)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT floor(extract(epoch FROM (later - earlier)) / 86400)::integer $$;

COMMENT ON FUNCTION zorina.days_between(timestamptz, timestamptz) IS
    'floor(seconds between the instants / 86400): the contract''s "days between"';
