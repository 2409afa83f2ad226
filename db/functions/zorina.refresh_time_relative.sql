/*
 * zorina.refresh_time_relative(organization_id, as_of)
 *   -> (customer_id, segment_before, segment_after) of every row it updated
 *
 * For the customers an incremental refresh did not recompute, as_of moving changes only
 * figures derived from stored columns: days_since_last_visit, tenure_days, is_overdue and
 * customer_segment (windowed counts and sums are covered by recomputing the customers whose
 * rows crossed a window edge, see zorina.customers_to_recompute). Same helper functions as
 * customer_analytics_compute, so the formulas exist once. Writes only rows whose values move
 * (a day boundary, a segment threshold). Customers without a visit have nothing relative.
 * Rows recomputed in the same refresh are already current: the IS DISTINCT FROM test skips them.
 * Only rows whose next day boundary (zorina.next_day_boundary) is at or before as_of can move;
 * an expression index finds them, so a quiet 5-minute run reads a handful of rows.
 * The customers are returned because their recency rank may have moved (zorina.refresh_rfm),
 * their segments so that the segment counts can follow (zorina.shift_segment_counts).
 */
-- it returned something else before (re-runnable: a return type cannot be replaced)
DROP FUNCTION IF EXISTS zorina.refresh_time_relative(uuid, timestamptz);

CREATE FUNCTION zorina.refresh_time_relative(
    p_organization_id uuid, p_as_of timestamptz)
RETURNS TABLE (customer_id text, segment_before text, segment_after text)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_org record;
BEGIN
    SELECT * INTO v_org FROM zorina.organization_profile(p_organization_id);
    IF NOT FOUND THEN
        RETURN;
    END IF;

    -- the rows that move, with the segment they leave (RETURNING sees only new values), then
    -- the update of exactly those rows by ctid (read in this statement, under the refresh lock);
    -- the new values are computed in SET and compared in WHERE with the same helpers
    RETURN QUERY
    WITH due AS MATERIALIZED (
        SELECT ca.ctid AS row_id, ca.customer_segment AS segment_before
          FROM public.customer_analytics ca
         WHERE ca.organization_id = p_organization_id
           AND ca.first_booking_at IS NOT NULL
           -- only rows whose next day boundary has passed (index range scan)
           AND zorina.next_day_boundary(ca.first_booking_at, ca.last_booking_at, ca.tenure_days, ca.days_since_last_visit)
               <= extract(epoch FROM p_as_of)::double precision
           AND (ca.days_since_last_visit, ca.tenure_days, ca.is_overdue, ca.customer_segment)
               IS DISTINCT FROM
               (zorina.days_between(ca.last_booking_at, p_as_of),
                zorina.days_between(ca.first_booking_at, p_as_of),
                zorina.is_overdue(zorina.days_between(ca.last_booking_at, p_as_of), ca.avg_days_between_visits),
                zorina.customer_segment(ca.first_booking_at, ca.last_booking_at, p_as_of,
                                        v_org.new_days, v_org.active_days, v_org.at_risk_days))
    ),
    moved AS (
        UPDATE public.customer_analytics ca
           SET days_since_last_visit = zorina.days_between(ca.last_booking_at, p_as_of),
               tenure_days           = zorina.days_between(ca.first_booking_at, p_as_of),
               is_overdue            = zorina.is_overdue(zorina.days_between(ca.last_booking_at, p_as_of),
                                                         ca.avg_days_between_visits),
               customer_segment      = zorina.customer_segment(ca.first_booking_at, ca.last_booking_at, p_as_of,
                                           v_org.new_days, v_org.active_days, v_org.at_risk_days),
               updated_at            = now()
          FROM due
         -- the due rows by a TID scan of their ctids: joined on ctid alone, the planner (its
         -- estimate of due is a third of the organization: the bound is computed at run time)
         -- sometimes hashed every row of the organization to update a handful (seen in new
         -- sessions, as every pg_cron run is: up to 16 ms per organization of 10k rows)
         WHERE ca.ctid = ANY (ARRAY(SELECT d.row_id FROM due d))
           AND ca.ctid = due.row_id
           AND ca.organization_id = p_organization_id  -- whatever the join, never another organization
        RETURNING ca.square_customer_id, due.segment_before, ca.customer_segment
    )
    SELECT moved.square_customer_id, moved.segment_before, moved.customer_segment FROM moved;
END
$$;
