/*
 * zorina.rfm_moves_ranked_whole(organization_id, changed_customers)
 *   -> (row_id, recency, frequency, monetary, segment, score, ranked_customers, boundary_values,
 *       boundary_customers)
 *
 * Exactly what zorina.rfm_moves(organization_id) returns, by ranking the organization whole but
 * comparing only a few rows: when changed_customers lists every customer whose row this
 * transaction inserted, updated or deleted (a superset is fine) and the stored scores were exact
 * before. Per score: the new rank order from its index (zorina.rfm_ranking, index-only), then
 * the unchanged customers whose stored score may differ (zorina.rfm_stored_crossings: a binary
 * search per bucket boundary). Only those and the changed customers are compared with their
 * stored rows; the scores are read off their positions (zorina.rfm_bucket). Then the new bucket
 * boundaries, read off the rankings (rows without a row_id, as zorina.rfm_moves_after_changes
 * returns them).
 * Falls back to comparing every row (zorina.rfm_moves_compared_whole) when more than an eighth of the ranked customers changed
 * (comparing every row is then cheaper) or a stored score is missing where the premise says
 * there is one. zorina.rfm_moves_after_changes calls it when the previous bucket boundaries
 * cannot be used (zorina.rfm_moves_from_boundaries).
 */
CREATE OR REPLACE FUNCTION zorina.rfm_moves_ranked_whole(
    p_organization_id uuid, p_changed_customers text[])
RETURNS TABLE (row_id tid, recency smallint, frequency smallint, monetary smallint, segment text,
               score text, ranked_customers integer, boundary_values bigint[], boundary_customers text[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
COST 200000 ROWS 100  -- ~20 ms per 10k customers: costly enough for zorina.collect_in_parallel to use workers
SET search_path = pg_catalog, public
SET jit = off  -- milliseconds of work
-- the arrays' sizes, known only at run time, choose the joins below
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_changed constant text[] := coalesce(p_changed_customers, ARRAY[]::text[]);
    v_by_recency   text[];
    v_by_frequency text[];
    v_by_monetary  text[];
    v_ranked integer;
    v_candidates text[];
    v_recency_crossings   text[];
    v_frequency_crossings text[];
    v_monetary_crossings  text[];
BEGIN
    v_by_recency := zorina.rfm_ranking(p_organization_id, 'recency');
    v_ranked := cardinality(v_by_recency);
    -- past an eighth of the ranked customers, comparing every row is cheaper (measured at 10k:
    -- 100 changed 12 ms, 900 about even with the full comparison's 19 ms, 1,800 29 ms)
    IF cardinality(v_changed) * 8 > v_ranked THEN
        RETURN QUERY SELECT * FROM zorina.rfm_moves_compared_whole(p_organization_id);
        RETURN;
    END IF;
    v_by_frequency := zorina.rfm_ranking(p_organization_id, 'frequency');
    v_by_monetary  := zorina.rfm_ranking(p_organization_id, 'monetary');

    v_recency_crossings   := zorina.rfm_stored_crossings(p_organization_id, 'recency', v_by_recency, v_changed);
    v_frequency_crossings := zorina.rfm_stored_crossings(p_organization_id, 'frequency', v_by_frequency, v_changed);
    v_monetary_crossings  := zorina.rfm_stored_crossings(p_organization_id, 'monetary', v_by_monetary, v_changed);
    -- tested one by one: || takes a NULL array for an empty one
    IF v_recency_crossings IS NULL OR v_frequency_crossings IS NULL OR v_monetary_crossings IS NULL THEN
        -- a stored score missing: compare every row
        RETURN QUERY SELECT * FROM zorina.rfm_moves_compared_whole(p_organization_id);
        RETURN;
    END IF;
    v_candidates := v_changed || v_recency_crossings || v_frequency_crossings || v_monetary_crossings;

    RETURN QUERY
    WITH
    candidates AS (
        SELECT DISTINCT c.customer_id FROM unnest(v_candidates) AS c(customer_id)
    ),
    -- the candidates' positions in each ranking: one pass over the array, a hashed lookup per
    -- element (v_candidates is a constant of this custom plan). LIMIT: a customer is at most
    -- once in a ranking, so it never cuts; it tells the planner how few rows come out. Joined to
    -- the whole arrays instead, the planner could not know their customers are distinct, its
    -- estimates multiplied to millions of rows and it sized a hash table for them (at 37k
    -- ranked customers and 1,170 candidates: 40 ms of the 68 this query took)
    recency_positions AS (
        SELECT r.customer_id, r.position
          FROM unnest(v_by_recency) WITH ORDINALITY AS r(customer_id, position)
         WHERE r.customer_id = ANY (v_candidates)
         LIMIT cardinality(v_candidates)
    ),
    frequency_positions AS (
        SELECT f.customer_id, f.position
          FROM unnest(v_by_frequency) WITH ORDINALITY AS f(customer_id, position)
         WHERE f.customer_id = ANY (v_candidates)
         LIMIT cardinality(v_candidates)
    ),
    monetary_positions AS (
        SELECT m.customer_id, m.position
          FROM unnest(v_by_monetary) WITH ORDINALITY AS m(customer_id, position)
         WHERE m.customer_id = ANY (v_candidates)
         LIMIT cardinality(v_candidates)
    ),
    -- each candidate's new scores, from its positions (a customer without a visit has none)
    scored AS (
        SELECT ca.ctid AS row_id,
               ca.rfm_recency_score, ca.rfm_frequency_score, ca.rfm_monetary_score, ca.rfm_segment,
               zorina.rfm_bucket(r.position, v_ranked) AS recency,
               zorina.rfm_bucket(f.position, v_ranked) AS frequency,
               zorina.rfm_bucket(m.position, v_ranked) AS monetary
          FROM candidates c
          JOIN public.customer_analytics ca
            ON ca.organization_id = p_organization_id AND ca.square_customer_id = c.customer_id
          LEFT JOIN recency_positions r   ON r.customer_id = c.customer_id
          LEFT JOIN frequency_positions f ON f.customer_id = c.customer_id
          LEFT JOIN monetary_positions m  ON m.customer_id = c.customer_id
        OFFSET 0  -- plain columns below: zorina.rfm_segment is inlined only for simple arguments
    )
    SELECT s.row_id, s.recency, s.frequency, s.monetary,
           zorina.rfm_segment(s.recency, s.frequency, s.monetary),
           NULL::text, NULL::integer, NULL::bigint[], NULL::text[]
      FROM scored s
     WHERE zorina.rfm_scores_moved(s.rfm_recency_score, s.rfm_frequency_score, s.rfm_monetary_score,
                                   s.rfm_segment, s.recency, s.frequency, s.monetary);

    -- the new boundaries, read off the rankings: each bucket's last customer, and its key
    RETURN QUERY
    SELECT NULL::tid, NULL::smallint, NULL::smallint, NULL::smallint, NULL::text,
           r.score, v_ranked, k.boundary_values, k.boundary_customers
      FROM (VALUES ('recency', v_by_recency), ('frequency', v_by_frequency), ('monetary', v_by_monetary))
           AS r(score, ranking)
     CROSS JOIN LATERAL (
         SELECT array_agg(CASE r.score WHEN 'recency'   THEN ca.days_since_last_visit::bigint
                                       WHEN 'frequency' THEN ca.total_accepted_bookings::bigint
                                       ELSE ca.total_revenue_cents::bigint END ORDER BY b.bucket) AS boundary_values,
                array_agg(r.ranking[zorina.rfm_bucket_end(b.bucket, v_ranked)] ORDER BY b.bucket) AS boundary_customers
           FROM generate_series(1, 4) AS b(bucket)
           LEFT JOIN public.customer_analytics ca
                  ON ca.organization_id = p_organization_id
                 AND ca.square_customer_id = r.ranking[zorina.rfm_bucket_end(b.bucket, v_ranked)]) AS k;
END
$$;
