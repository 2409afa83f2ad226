/*
 * zorina.customer_segment(first_booking_at, last_booking_at, as_of, new_days, active_days, at_risk_days)
 * The lifecycle segment of contract section 3, relative to as_of. Thresholds come from the
 * organization's settings (zorina.organization_profile).
 * STABLE, not IMMUTABLE: timestamptz - interval depends on TimeZone, and the planner refuses to
 * inline a function whose body is more volatile than declared (it was called 10k times per
 * organization instead of being inlined).
 */
CREATE OR REPLACE FUNCTION zorina.customer_segment(
    first_booking_at timestamptz, last_booking_at timestamptz, as_of timestamptz,
    new_days integer, active_days integer, at_risk_days integer)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN first_booking_at IS NULL                                  THEN 'PROSPECT'
        WHEN first_booking_at > as_of - make_interval(days => new_days)   THEN 'NEW'
        WHEN last_booking_at  > as_of - make_interval(days => active_days) THEN 'ACTIVE'
        WHEN last_booking_at  > as_of - make_interval(days => at_risk_days) THEN 'AT_RISK'
        ELSE 'LOST'
    END
$$;
