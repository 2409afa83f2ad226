/*
 * zorina.rfm_moves(organization_id) -> (row_id, recency, frequency, monetary, segment)
 *
 * The organization's RFM scores as the contract defines them (section 3): ntile(5) over the
 * organization's customers with at least one visit, by days_since_last_visit (descending),
 * total_accepted_bookings and total_revenue_cents, ties by square_customer_id; NULL scores (and
 * segment) for customers without a visit. Derived from the stored customer_analytics rows, no
 * source scan. Returns only the rows whose stored scores or segment differ, by ctid: the caller
 * (zorina.refresh_rfm) writes them in the same transaction.
 * Writes nothing and needs no exception block: PARALLEL SAFE, so several organizations are
 * scored at once in parallel workers.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_moves(p_organization_id uuid)
RETURNS TABLE (row_id tid, recency smallint, frequency smallint, monetary smallint, segment text)
LANGUAGE sql STABLE PARALLEL SAFE
COST 1000000 ROWS 1000  -- ~30 ms per 10k customers: worth a parallel worker even for two organizations
SET search_path = pg_catalog, public
AS $$
    -- One read of the organization's rows: ntile within the partition of visitors
    WITH ranked AS (
        SELECT ca.ctid AS row_id,
               ca.total_accepted_bookings > 0 AS has_visit,
               ca.rfm_recency_score, ca.rfm_frequency_score, ca.rfm_monetary_score, ca.rfm_segment,
               ntile(5) OVER (PARTITION BY ca.total_accepted_bookings > 0
                              ORDER BY ca.days_since_last_visit DESC, ca.square_customer_id COLLATE "C") AS recency,
               ntile(5) OVER (PARTITION BY ca.total_accepted_bookings > 0
                              ORDER BY ca.total_accepted_bookings, ca.square_customer_id COLLATE "C")    AS frequency,
               ntile(5) OVER (PARTITION BY ca.total_accepted_bookings > 0
                              ORDER BY ca.total_revenue_cents, ca.square_customer_id COLLATE "C")        AS monetary
          FROM public.customer_analytics ca
         WHERE ca.organization_id = p_organization_id
    ),
    scored AS (
        SELECT r.row_id,
               r.rfm_recency_score, r.rfm_frequency_score, r.rfm_monetary_score, r.rfm_segment,
               CASE WHEN r.has_visit THEN r.recency END::smallint   AS recency,
               CASE WHEN r.has_visit THEN r.frequency END::smallint AS frequency,
               CASE WHEN r.has_visit THEN r.monetary END::smallint  AS monetary
          FROM ranked r
        OFFSET 0  -- plain columns below: zorina.rfm_segment is inlined only for simple arguments
    )
    SELECT s.row_id, s.recency, s.frequency, s.monetary,
           zorina.rfm_segment(s.recency, s.frequency, s.monetary)
      FROM scored s
     WHERE (s.rfm_recency_score, s.rfm_frequency_score, s.rfm_monetary_score, s.rfm_segment)
           IS DISTINCT FROM (s.recency, s.frequency, s.monetary,
                             zorina.rfm_segment(s.recency, s.frequency, s.monetary))
$$;
