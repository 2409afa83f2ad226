/*
 * zorina.customers_to_recompute(organization_id, dirty_customers, previous_as_of, as_of, recent)
 *   -> text[] of square_customer_id
 *
 * The customers an incremental refresh from previous_as_of to as_of must recompute in full so
 * that the result equals a full refresh (contract section 4):
 *   - the dirty keys (source rows of theirs were written);
 *   - the customers time moved (no write needed): a booking that was upcoming started or ended
 *     in (previous, as_of], a visit or completed payment left a 30/90/365-day window, a
 *     completed payment's created_at passed;
 *   - the customers whose referral link may have moved because a dirty customer's codes did:
 *     those it referred (stored link) and those whose referral_source is one of its codes;
 *   - with recent = true, the safety net for writes that bypassed the triggers: every customer
 *     with a source row created, updated or starting in the last 90 days, and stored rows whose
 *     profile is gone.
 * Everyone else only needs the time-relative pass (zorina.refresh_time_relative).
 */
CREATE OR REPLACE FUNCTION zorina.customers_to_recompute(
    p_organization_id uuid, p_dirty_customers text[], p_previous_as_of timestamptz,
    p_as_of timestamptz, p_recent boolean)
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
SET TimeZone = 'UTC'
-- (no plan_cache_mode = force_generic_plan: planned once, a customer list that is a parameter is
-- searched element by element for every row it filters; L, twenty lists of ~450: 34-39 s
-- against 0.3-0.4 s with plans made for each call's list)
AS $$
DECLARE
    -- recent's safety net, read only in recent mode: its own statement, so that an incremental
    -- call neither plans it nor runs it. As branches of the statement below behind `p_recent AND`,
    -- a generic plan (which the plan cache may settle on) kept them behind one-time filters, one
    -- of them under a Gather: every incremental call then started two parallel workers to find
    -- the filter false (L, nothing changed: 20 calls 535 ms, ~16 ms each in the Gather)
    v_recently_written text[] := ARRAY[]::text[];
BEGIN
    IF p_recent THEN
        v_recently_written := ARRAY(
            -- zorina.recently_booked_customer_count counts the customers of this first branch
            -- (same window, same test) to decide early that recent recomputes the whole
            -- organization: keep it a subset of this list
            SELECT b.customer_id
              FROM public.bookings b
             WHERE b.organization_id = p_organization_id AND b.customer_id IS NOT NULL
               AND (b.created_at::timestamptz > p_as_of - interval '90 days'
                    OR b.updated_at::timestamptz > p_as_of - interval '90 days'
                    OR (b.start_at::timestamptz > p_as_of - interval '90 days' AND b.start_at::timestamptz <= p_as_of))
            UNION
            SELECT pay.customer_id
              FROM public.payments pay
             WHERE pay.organization_id = p_organization_id AND pay.customer_id IS NOT NULL
               AND (pay.created_at::timestamptz > p_as_of - interval '90 days'
                    OR pay.updated_at::timestamptz > p_as_of - interval '90 days')
            UNION
            SELECT c.square_customer_id
              FROM public.square_existing_clients c
             WHERE c.organization_id = p_organization_id
               AND (c.created_at::timestamptz > p_as_of - interval '90 days'
                    OR c.updated_at::timestamptz > p_as_of - interval '90 days')
            UNION
            SELECT r.referrer_customer_id
              FROM public.referral_rewards r
             WHERE r.organization_id = p_organization_id
               AND r.created_at::timestamptz > p_as_of - interval '90 days'
            UNION
            SELECT rp.square_customer_id
              FROM public.referral_profiles rp
             WHERE rp.organization_id = p_organization_id
               AND rp.activated_at::timestamptz > p_as_of - interval '90 days'
            UNION
            SELECT ca.square_customer_id
              FROM public.customer_analytics ca
             WHERE ca.organization_id = p_organization_id
               AND NOT EXISTS (SELECT 1 FROM public.square_existing_clients c
                                WHERE c.organization_id = ca.organization_id
                                  AND c.square_customer_id = ca.square_customer_id));
    END IF;

    -- plpgsql, not sql: the plan of this statement is cached instead of re-planned every call
    RETURN (
    WITH
    window_edges AS (  -- instants whose passing changes a figure: (previous - N, as_of - N]
        SELECT p_previous_as_of - n * interval '1 day' AS passed_after,
               p_as_of - n * interval '1 day'          AS passed_until
          FROM unnest(ARRAY[0, 30, 90, 365]) AS n
    ),
    -- one index range scan per edge (bookings by (organization_id, start_at), payments by
    -- (organization_id, created_at) where the column type allows it)
    time_moved AS (
        SELECT moved.customer_id
          FROM window_edges w
         CROSS JOIN LATERAL (
                SELECT b.customer_id
                  FROM public.bookings b
                 WHERE b.organization_id = p_organization_id
                   AND b.start_at > w.passed_after AT TIME ZONE 'UTC'
                   AND b.start_at <= w.passed_until AT TIME ZONE 'UTC'
                   AND b.customer_id IS NOT NULL
                   AND b.status::text IN ('ACCEPTED', 'PENDING')
                UNION ALL
                SELECT pay.customer_id
                  FROM public.payments pay
                 WHERE pay.organization_id = p_organization_id
                   -- `AT TIME ZONE 'UTC'` on the instant, not a cast on the column: works for
                   -- either column type (zone-less = UTC) and keeps the index usable
                   AND pay.created_at > w.passed_after AT TIME ZONE 'UTC'
                   AND pay.created_at <= w.passed_until AT TIME ZONE 'UTC'
                   AND pay.customer_id IS NOT NULL
                   AND pay.status::text = 'COMPLETED'
               ) AS moved
    ),
    dirty_codes AS (
        SELECT DISTINCT lower(btrim(code.value)) AS code
          FROM public.square_existing_clients c
         CROSS JOIN LATERAL (VALUES (c.personal_code), (c.referral_code)) AS code(value)
         WHERE c.organization_id = p_organization_id
           AND c.square_customer_id = ANY (p_dirty_customers)
           AND btrim(code.value) <> ''
    ),
    referral_dependents AS (
        SELECT ca.square_customer_id
          FROM public.customer_analytics ca
         WHERE ca.organization_id = p_organization_id
           AND ca.referred_by_customer_id = ANY (p_dirty_customers)
        UNION
        SELECT ca.square_customer_id
          FROM public.customer_analytics ca
          JOIN dirty_codes d ON lower(ca.referral_source) = d.code
         WHERE ca.organization_id = p_organization_id
           AND ca.referral_source IS NOT NULL
    )
    SELECT coalesce(array_agg(DISTINCT customer_id), ARRAY[]::text[])
      FROM (SELECT unnest(p_dirty_customers) AS customer_id
            UNION ALL SELECT customer_id FROM time_moved
            UNION ALL SELECT square_customer_id FROM referral_dependents
            UNION ALL SELECT unnest(v_recently_written)) AS affected
    );
END
$$;
