/*
 * zorina.rfm_moves(organization_id) -> (row_id, recency, frequency, monetary, segment)
 *
 * The organization's RFM scores as the contract defines them (section 3): ntile(5) over the
 * organization's customers with at least one visit, by days_since_last_visit (descending),
 * total_accepted_bookings and total_revenue_cents, ties by square_customer_id; NULL scores (and
 * segment) for customers without a visit. Derived from the stored customer_analytics rows, no
 * source scan. Returns only the rows whose stored scores or segment differ, by ctid: the caller
 * (zorina.refresh_rfm) writes them in the same transaction.
 *
 * Each score is ranked on its own, by an index-only scan of its index (migration 0005) that is
 * already in rank order: no sort of the organization's wide rows. The stored scores are read
 * once, by one scan of the organization's rows, and compared with the three rankings by hash
 * joins (~15 ms per 10k customers, where three sorts of the rows cost 30-40 ms). The scores are
 * deliberately not in those indexes: their updates stay HOT (see migration 0005).
 * Writes nothing and needs no exception block: PARALLEL SAFE, so several organizations are
 * scored at once in parallel workers.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_moves(p_organization_id uuid)
RETURNS TABLE (row_id tid, recency smallint, frequency smallint, monetary smallint, segment text)
LANGUAGE sql STABLE PARALLEL SAFE
COST 200000 ROWS 100  -- ~15 ms per 10k customers
SET search_path = pg_catalog, public
SET jit = off  -- milliseconds of work; compiling it would cost more
AS $$
    WITH
    recency_ranks AS (
        SELECT ca.square_customer_id AS customer_id,
               ntile(5) OVER (ORDER BY ca.days_since_last_visit DESC, ca.square_customer_id COLLATE "C") AS score
          FROM public.customer_analytics ca
         WHERE ca.organization_id = p_organization_id
           AND ca.total_accepted_bookings > 0
    ),
    frequency_ranks AS (
        SELECT ca.square_customer_id AS customer_id,
               ntile(5) OVER (ORDER BY ca.total_accepted_bookings, ca.square_customer_id COLLATE "C") AS score
          FROM public.customer_analytics ca
         WHERE ca.organization_id = p_organization_id
           AND ca.total_accepted_bookings > 0
    ),
    monetary_ranks AS (
        SELECT ca.square_customer_id AS customer_id,
               ntile(5) OVER (ORDER BY ca.total_revenue_cents, ca.square_customer_id COLLATE "C") AS score
          FROM public.customer_analytics ca
         WHERE ca.organization_id = p_organization_id
           AND ca.total_accepted_bookings > 0
    ),
    -- every stored row with its new scores; customers without a visit have no rank: NULL
    scored AS (
        SELECT ca.ctid AS row_id,
               ca.rfm_recency_score, ca.rfm_frequency_score, ca.rfm_monetary_score, ca.rfm_segment,
               r.score::smallint AS recency,
               f.score::smallint AS frequency,
               m.score::smallint AS monetary
          FROM public.customer_analytics ca
          LEFT JOIN recency_ranks r   ON r.customer_id = ca.square_customer_id
          LEFT JOIN frequency_ranks f ON f.customer_id = ca.square_customer_id
          LEFT JOIN monetary_ranks m  ON m.customer_id = ca.square_customer_id
         WHERE ca.organization_id = p_organization_id
        OFFSET 0  -- plain columns below: zorina.rfm_segment is inlined only for simple arguments
    )
    SELECT s.row_id, s.recency, s.frequency, s.monetary,
           zorina.rfm_segment(s.recency, s.frequency, s.monetary)
      FROM scored s
     WHERE zorina.rfm_scores_moved(s.rfm_recency_score, s.rfm_frequency_score, s.rfm_monetary_score,
                                   s.rfm_segment, s.recency, s.frequency, s.monetary)
$$;
