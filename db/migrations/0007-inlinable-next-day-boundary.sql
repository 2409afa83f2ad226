-- zorina.next_day_boundary (migration 0002) again, with the same values, in a form PostgreSQL
-- inlines. It is IMMUTABLE, but its body called extract(epoch FROM timestamptz), which the
-- catalog marks STABLE (other fields of a timestamptz depend on TimeZone; the epoch does not),
-- and an IMMUTABLE SQL function whose body is not immutable is never inlined: every entry of
-- customer_analytics_next_day_boundary_idx written by a refresh ran it as a function call
-- (measured at S, building the index over 100k rows: 290-445 ms, inlined 207-216 ms).
-- extract(epoch FROM ts - timestamptz 'epoch') is immutable and gives the same number for
-- every finite timestamptz: the interval holds the same microseconds as days and time, and the
-- epoch of either is that count divided by 10^6, exactly (numeric), before the same cast to
-- double precision. Same values, so the index entries already written stay valid: no REINDEX
-- (which would block writes to the table while it runs). tests/test_incremental.py compares the
-- two forms.
-- depends: 0006-dirty-keys-per-statement

CREATE OR REPLACE FUNCTION zorina.next_day_boundary(
    first_booking_at timestamptz, last_booking_at timestamptz, tenure_days integer, days_since_last_visit integer)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT least(extract(epoch FROM last_booking_at - timestamptz 'epoch')::double precision
                     + (days_since_last_visit + 1) * 86400.0,
                 extract(epoch FROM first_booking_at - timestamptz 'epoch')::double precision
                     + (tenure_days + 1) * 86400.0)
$fn$;
