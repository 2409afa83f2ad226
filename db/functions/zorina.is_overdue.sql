/*
 * zorina.is_overdue(days_since_last_visit, avg_days_between_visits) -> boolean
 * Contract: days_since_last_visit > 1.5 * avg_days_between_visits, false when either is NULL.
 */
CREATE OR REPLACE FUNCTION zorina.is_overdue(days_since_last_visit integer, avg_days_between_visits numeric)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce(days_since_last_visit > 1.5 * avg_days_between_visits, false) $$;
