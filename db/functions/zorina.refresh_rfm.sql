/*
 * zorina.refresh_rfm(organization_id) -> rows updated
 *
 * RFM scores are relative to the organization (contract section 3): ntile(5) over the
 * organization's customers with at least one visit. They are derived from the stored
 * customer_analytics rows (no source scan), and only rows whose scores or segment change are
 * written. Customers without a visit get NULL scores.
 */
CREATE OR REPLACE FUNCTION zorina.refresh_rfm(p_organization_id uuid)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public
-- Always a whole organization: hash joins are right. With statistics that lag behind (a first
-- load, an organization not yet in the histogram) the planner estimated 1 row and chose nested
-- loops over the organization's rows: 42 s instead of 50 ms for 10k customers.
SET enable_nestloop = off
AS $$
DECLARE
    v_updated bigint;
BEGIN
    WITH scored AS (
        SELECT ca.square_customer_id,
               ntile(5) OVER (ORDER BY ca.days_since_last_visit DESC, ca.square_customer_id COLLATE "C") AS recency,
               ntile(5) OVER (ORDER BY ca.total_accepted_bookings, ca.square_customer_id COLLATE "C")    AS frequency,
               ntile(5) OVER (ORDER BY ca.total_revenue_cents, ca.square_customer_id COLLATE "C")        AS monetary
          FROM public.customer_analytics ca
         WHERE ca.organization_id = p_organization_id
           AND ca.total_accepted_bookings > 0
    ),
    target AS (
        SELECT ca.square_customer_id,
               s.recency::smallint   AS recency,
               s.frequency::smallint AS frequency,
               s.monetary::smallint  AS monetary,
               zorina.rfm_segment(s.recency, s.frequency, s.monetary) AS segment
          FROM public.customer_analytics ca
          LEFT JOIN scored s ON s.square_customer_id = ca.square_customer_id
         WHERE ca.organization_id = p_organization_id
    )
    UPDATE public.customer_analytics ca
       SET rfm_recency_score   = t.recency,
           rfm_frequency_score = t.frequency,
           rfm_monetary_score  = t.monetary,
           rfm_segment         = t.segment,
           updated_at          = now()
      FROM target t
     WHERE ca.organization_id = p_organization_id
       AND ca.square_customer_id = t.square_customer_id
       AND (ca.rfm_recency_score, ca.rfm_frequency_score, ca.rfm_monetary_score, ca.rfm_segment)
           IS DISTINCT FROM (t.recency, t.frequency, t.monetary, t.segment);
    GET DIAGNOSTICS v_updated = ROW_COUNT;
    RETURN v_updated;
END
$$;
