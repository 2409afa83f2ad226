-- Undo 0007: migration 0002's body of zorina.next_day_boundary (same values, not inlined).
CREATE OR REPLACE FUNCTION zorina.next_day_boundary(
    first_booking_at timestamptz, last_booking_at timestamptz, tenure_days integer, days_since_last_visit integer)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT least(extract(epoch FROM last_booking_at)::double precision + (days_since_last_visit + 1) * 86400.0,
                 extract(epoch FROM first_booking_at)::double precision + (tenure_days + 1) * 86400.0)
$fn$;
