/*
 * zorina.rfm_moves(organization_id) -> (row_id, recency, frequency, monetary, segment)
 *
 * The organization's RFM scores as the contract defines them (section 3): ntile(5) over the
 * organization's customers with at least one visit, by days_since_last_visit (descending),
 * total_accepted_bookings and total_revenue_cents, ties by square_customer_id; NULL scores (and
 * segment) for customers without a visit. Derived from the stored customer_analytics rows, no
 * source scan. Returns only the rows whose stored scores differ, by ctid: the caller
 * (zorina.refresh_rfm) writes them in the same transaction.
 *
 * Each score is ranked on its own, by one index-only scan of its index (migration 0005), which
 * is already in rank order and carries the stored score: no read of the wide rows and no sort
 * (~3 ms per dimension and 10k customers, where three sorts of the rows cost 30-40 ms). Only
 * the customers with a moved score are then read, for their ctid and the two scores that did
 * not move (unmoved means the stored score is the new one). The segment is derived from the
 * scores only, so it moves exactly when one of them does.
 * Writes nothing and needs no exception block: PARALLEL SAFE, so several organizations are
 * scored at once in parallel workers.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_moves(p_organization_id uuid)
RETURNS TABLE (row_id tid, recency smallint, frequency smallint, monetary smallint, segment text)
LANGUAGE sql STABLE PARALLEL SAFE
COST 100000 ROWS 100  -- ~10 ms per 10k customers
SET search_path = pg_catalog, public
SET jit = off  -- a few milliseconds of work; compiling would cost more
AS $$
    WITH
    recency_moves AS (
        SELECT ranked.customer_id, ranked.score
          FROM (SELECT ca.square_customer_id AS customer_id, ca.rfm_recency_score AS stored_score,
                       ntile(5) OVER (ORDER BY ca.days_since_last_visit DESC,
                                               ca.square_customer_id COLLATE "C") AS score
                  FROM public.customer_analytics ca
                 WHERE ca.organization_id = p_organization_id
                   AND ca.total_accepted_bookings > 0) AS ranked
         WHERE ranked.stored_score IS DISTINCT FROM ranked.score
    ),
    frequency_moves AS (
        SELECT ranked.customer_id, ranked.score
          FROM (SELECT ca.square_customer_id AS customer_id, ca.rfm_frequency_score AS stored_score,
                       ntile(5) OVER (ORDER BY ca.total_accepted_bookings,
                                               ca.square_customer_id COLLATE "C") AS score
                  FROM public.customer_analytics ca
                 WHERE ca.organization_id = p_organization_id
                   AND ca.total_accepted_bookings > 0) AS ranked
         WHERE ranked.stored_score IS DISTINCT FROM ranked.score
    ),
    monetary_moves AS (
        SELECT ranked.customer_id, ranked.score
          FROM (SELECT ca.square_customer_id AS customer_id, ca.rfm_monetary_score AS stored_score,
                       ntile(5) OVER (ORDER BY ca.total_revenue_cents,
                                               ca.square_customer_id COLLATE "C") AS score
                  FROM public.customer_analytics ca
                 WHERE ca.organization_id = p_organization_id
                   AND ca.total_accepted_bookings > 0) AS ranked
         WHERE ranked.stored_score IS DISTINCT FROM ranked.score
    ),
    -- customers whose last visit went away but whose scores are still set (the same predicate
    -- as customer_analytics_rfm_stale_idx, so that index answers it)
    scores_to_clear AS (
        SELECT ca.square_customer_id AS customer_id
          FROM public.customer_analytics ca
         WHERE ca.organization_id = p_organization_id
           AND ca.total_accepted_bookings = 0
           AND (ca.rfm_recency_score IS NOT NULL OR ca.rfm_frequency_score IS NOT NULL
                OR ca.rfm_monetary_score IS NOT NULL OR ca.rfm_segment IS NOT NULL)
    ),
    -- one row per customer with a moved score: the new scores that moved, NULL for the others
    moved_customers AS (
        SELECT moves.customer_id,
               max(moves.recency) AS recency, max(moves.frequency) AS frequency,
               max(moves.monetary) AS monetary
          FROM (SELECT customer_id, score AS recency, NULL::integer AS frequency, NULL::integer AS monetary
                  FROM recency_moves
                UNION ALL
                SELECT customer_id, NULL, score, NULL FROM frequency_moves
                UNION ALL
                SELECT customer_id, NULL, NULL, score FROM monetary_moves
                UNION ALL
                SELECT customer_id, NULL, NULL, NULL FROM scores_to_clear) AS moves
         GROUP BY moves.customer_id
    ),
    -- a score that did not move is the stored one
    scored AS (
        SELECT ca.ctid AS row_id,
               CASE WHEN ca.total_accepted_bookings > 0
                    THEN coalesce(moved.recency, ca.rfm_recency_score) END::smallint     AS recency,
               CASE WHEN ca.total_accepted_bookings > 0
                    THEN coalesce(moved.frequency, ca.rfm_frequency_score) END::smallint AS frequency,
               CASE WHEN ca.total_accepted_bookings > 0
                    THEN coalesce(moved.monetary, ca.rfm_monetary_score) END::smallint   AS monetary
          FROM moved_customers moved
          JOIN public.customer_analytics ca
            ON ca.organization_id = p_organization_id AND ca.square_customer_id = moved.customer_id
        OFFSET 0  -- plain columns below: zorina.rfm_segment is inlined only for simple arguments
    )
    SELECT s.row_id, s.recency, s.frequency, s.monetary,
           zorina.rfm_segment(s.recency, s.frequency, s.monetary)
      FROM scored s
$$;
