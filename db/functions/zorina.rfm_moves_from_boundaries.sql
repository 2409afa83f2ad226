/*
 * zorina.rfm_moves_from_boundaries(organization_id, changed_customers)
 *   -> (row_id, recency, frequency, monetary, segment, score, ranked_customers, boundary_values,
 *       boundary_customers)
 *
 * What zorina.rfm_moves(organization_id) returns, found from the previous bucket boundaries
 * (zorina.rfm_boundaries, migration 0009) at a cost that follows the change, not the size of the
 * organization; then the new boundaries, one row per score without a row_id. Returns no row at
 * all when it cannot (the caller then ranks the organization whole).
 *
 * Premise, as for every incremental re-ranking: changed_customers lists every customer whose
 * row this transaction inserted, updated or deleted, and the stored scores and boundaries were
 * exact before it (every refresh ends with them exact; the merge of listed customers leaves their
 * RFM columns alone, so a changed row still holds its previous scores).
 * Per score, with N customers ranked before and E(b, N) = zorina.rfm_bucket_end(b, N):
 *   - the unchanged customers kept their keys, so those at or before the previous last key B(b)
 *     of bucket b are exactly those whose stored score is <= b: E(b, N) of them, less the changed
 *     customers whose previous (stored) score is <= b;
 *   - adding the changed customers ranked now at or before B(b) gives P, the position B(b) now
 *     holds; bucket b must now end at T = E(b, N') (N' = N - changed ranked before + changed
 *     ranked now);
 *   - the new last key of bucket b is |T - P| steps from B(b) along the score's index
 *     (zorina.rfm_walk). An unchanged customer's score moves only if its key lies between the old
 *     and the new boundary of some bucket: exactly the customers walked past.
 * The changed customers and those walked past are scored from the new boundaries
 * (zorina.rfm_score_from_boundaries) and returned when a score or the segment moved.
 * Cannot, and returns nothing, when: the table or an organization's row is missing, more than an
 * eighth of the ranked customers changed (comparing every row is then as cheap), a changed
 * customer's row is gone (its previous score with it), or anything disagrees with the premise
 * (a stored boundary customer's key or score, a walk that finds fewer customers than counted).
 */
CREATE OR REPLACE FUNCTION zorina.rfm_moves_from_boundaries(
    p_organization_id uuid, p_changed_customers text[])
RETURNS TABLE (row_id tid, recency smallint, frequency smallint, monetary smallint, segment text,
               score text, ranked_customers integer, boundary_values bigint[], boundary_customers text[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
COST 20000 ROWS 100
SET search_path = pg_catalog, public
SET jit = off  -- milliseconds of work
-- each statement planned once per session: every call is in a parallel worker that lives for
-- one refresh and scores a few organizations, so custom plans were planned on every call
-- (~4 ms of a ~10 ms call at 10k customers); the lists' sizes choose nothing here
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_scores constant text[] := ARRAY['recency', 'frequency', 'monetary'];
    v_changed text[];
    -- the changed customers' rows: ranked now, ranking keys now, stored (previous) scores
    v_ids text[];
    v_ranked_now boolean[];
    v_days bigint[];
    v_visits bigint[];
    v_revenue bigint[];
    v_recency_scores smallint[];
    v_frequency_scores smallint[];
    v_monetary_scores smallint[];
    -- one score at a time
    v_score_number integer;
    v_score text;
    v_keys bigint[];
    v_stored smallint[];
    v_old_ranked integer;
    v_old_values bigint[];
    v_old_customers text[];
    v_ranked_before bigint;
    v_ranked_after bigint;
    v_null_keys bigint;
    v_stored_at_or_before bigint[];
    v_changed_at_or_before bigint[];
    v_bucket integer;
    v_old_end bigint;
    v_position bigint;  -- P: where the old boundary key stands now
    v_new_end bigint;   -- T: where bucket v_bucket must end now
    v_steps bigint;
    v_walked text[];
    v_walked_values bigint[];
    v_valid boolean;
    -- the new boundaries, the three scores one after the other (four each)
    v_new_ranked integer[] := ARRAY[]::integer[];
    v_new_values bigint[] := ARRAY[]::bigint[];
    v_new_customers text[] := ARRAY[]::text[];
    v_candidates text[];
    -- the new boundaries of each score as arrays of their own: the scoring below reads them per
    -- candidate, and a slice in the query (v_new_values[1:4]) is built again at every use
    -- (twice as slow: 46 vs 22 ms for 10k customers scored)
    v_recency_values bigint[];
    v_recency_customers text[];
    v_frequency_values bigint[];
    v_frequency_customers text[];
    v_monetary_values bigint[];
    v_monetary_customers text[];
BEGIN
    IF to_regclass('zorina.rfm_boundaries') IS NULL THEN
        RETURN;  -- migration 0009 rolled back
    END IF;
    v_changed := ARRAY(SELECT DISTINCT c FROM unnest(coalesce(p_changed_customers, ARRAY[]::text[])) AS c
                        WHERE c IS NOT NULL);
    v_candidates := v_changed;

    SELECT array_agg(ca.square_customer_id), array_agg(ca.total_accepted_bookings > 0),
           array_agg(ca.days_since_last_visit::bigint), array_agg(ca.total_accepted_bookings::bigint),
           array_agg(ca.total_revenue_cents::bigint),
           array_agg(ca.rfm_recency_score), array_agg(ca.rfm_frequency_score), array_agg(ca.rfm_monetary_score)
      INTO v_ids, v_ranked_now, v_days, v_visits, v_revenue,
           v_recency_scores, v_frequency_scores, v_monetary_scores
      FROM public.customer_analytics ca
     WHERE ca.organization_id = p_organization_id
       AND ca.square_customer_id = ANY (v_changed);
    IF coalesce(cardinality(v_ids), 0) <> cardinality(v_changed) THEN
        RETURN;  -- a changed customer's row is gone, and with it whether it was ranked, and where
    END IF;

    FOR v_score_number IN 1 .. 3 LOOP
        v_score := v_scores[v_score_number];
        v_keys   := CASE v_score_number WHEN 1 THEN v_days WHEN 2 THEN v_visits ELSE v_revenue END;
        v_stored := CASE v_score_number WHEN 1 THEN v_recency_scores WHEN 2 THEN v_frequency_scores
                                        ELSE v_monetary_scores END;
        SELECT b.ranked_customers, b.boundary_values, b.boundary_customers
          INTO v_old_ranked, v_old_values, v_old_customers
          FROM zorina.rfm_boundaries b
         WHERE b.organization_id = p_organization_id AND b.score = v_score;
        IF NOT FOUND OR cardinality(v_changed) * 8 > v_old_ranked THEN
            RETURN;  -- never ranked since 0009, or so many changed that comparing every row is as cheap
        END IF;

        -- the changed customers: ranked before (a stored score) and now; per bucket, how many
        -- were at or before its old boundary before (stored score <= bucket) and are now
        SELECT count(*) FILTER (WHERE c.stored IS NOT NULL),
               count(*) FILTER (WHERE c.ranked),
               count(*) FILTER (WHERE c.ranked AND c.key_value IS NULL)
          INTO v_ranked_before, v_ranked_after, v_null_keys
          FROM unnest(v_ranked_now, v_keys, v_stored) AS c(ranked, key_value, stored);
        IF v_null_keys > 0 THEN
            RETURN;  -- a ranked customer without a ranking key: not an order this can walk
        END IF;
        SELECT array_agg(t.stored_at_or_before ORDER BY t.bucket), array_agg(t.now_at_or_before ORDER BY t.bucket)
          INTO v_stored_at_or_before, v_changed_at_or_before
          FROM (SELECT b.bucket,
                       count(*) FILTER (WHERE c.stored <= b.bucket) AS stored_at_or_before,
                       count(*) FILTER (WHERE c.ranked
                                          AND zorina.rfm_key_at_or_before(v_score, c.key_value, c.customer_id,
                                                                          v_old_values[b.bucket],
                                                                          v_old_customers[b.bucket])) AS now_at_or_before
                  FROM generate_series(1, 4) AS b(bucket)
                  -- every bucket counted, none changed included
                  LEFT JOIN unnest(v_ids, v_ranked_now, v_keys, v_stored) AS c(customer_id, ranked, key_value, stored)
                         ON true
                 GROUP BY b.bucket) AS t;
        v_new_ranked := v_new_ranked || (v_old_ranked - v_ranked_before + v_ranked_after)::integer;

        FOR v_bucket IN 1 .. 4 LOOP
            v_old_end := zorina.rfm_bucket_end(v_bucket, v_old_ranked);
            v_new_end := zorina.rfm_bucket_end(v_bucket, v_new_ranked[v_score_number]);
            -- the old boundary agrees with the stored rows: present exactly when the bucket
            -- ended past position 0; its customer, unless changed, still has that key and the
            -- score of that position
            IF (v_old_end >= 1) <> (v_old_customers[v_bucket] IS NOT NULL) THEN
                RETURN;
            END IF;
            IF v_old_customers[v_bucket] IS NOT NULL AND NOT (v_old_customers[v_bucket] = ANY (v_changed)) THEN
                SELECT ca.total_accepted_bookings > 0
                       AND CASE v_score_number WHEN 1 THEN ca.days_since_last_visit::bigint
                                               WHEN 2 THEN ca.total_accepted_bookings::bigint
                                               ELSE ca.total_revenue_cents::bigint END = v_old_values[v_bucket]
                       AND CASE v_score_number WHEN 1 THEN ca.rfm_recency_score
                                               WHEN 2 THEN ca.rfm_frequency_score
                                               ELSE ca.rfm_monetary_score END = zorina.rfm_bucket(v_old_end, v_old_ranked)
                  INTO v_valid
                  FROM public.customer_analytics ca
                 WHERE ca.organization_id = p_organization_id
                   AND ca.square_customer_id = v_old_customers[v_bucket];
                IF v_valid IS NOT TRUE THEN
                    RETURN;
                END IF;
            END IF;

            v_position := v_old_end - v_stored_at_or_before[v_bucket] + v_changed_at_or_before[v_bucket];
            IF v_new_end = v_position AND v_new_end >= 1
               AND NOT (v_old_customers[v_bucket] = ANY (v_changed)) THEN
                -- the bucket still ends with the same, unchanged customer (checked above): no walk
                v_new_values := v_new_values || v_old_values[v_bucket];
                v_new_customers := v_new_customers || v_old_customers[v_bucket];
                CONTINUE;
            END IF;
            -- forward past the old boundary, or back from it (its own customer first, when ranked)
            -- to the customer the bucket now ends with
            IF v_new_end > v_position THEN
                v_steps := v_new_end - v_position;
            ELSIF v_new_end >= 1 THEN
                v_steps := v_position - v_new_end + 1;
            ELSE
                v_steps := v_position;  -- the bucket is now empty: back past every customer
            END IF;
            SELECT coalesce(array_agg(w.customer_id), ARRAY[]::text[]), coalesce(array_agg(w.value), ARRAY[]::bigint[])
              INTO v_walked, v_walked_values
              FROM zorina.rfm_walk(p_organization_id, v_score, v_old_values[v_bucket], v_old_customers[v_bucket],
                                   v_steps::integer, v_new_end > v_position) AS w;
            IF cardinality(v_walked) <> v_steps THEN
                RETURN;  -- fewer customers than the counts say: the premise does not hold
            END IF;
            v_candidates := v_candidates || v_walked;
            IF v_new_end < 1 THEN
                v_new_values := v_new_values || NULL::bigint;
                v_new_customers := v_new_customers || NULL::text;
            ELSE
                v_new_values := v_new_values || v_walked_values[v_steps];
                v_new_customers := v_new_customers || v_walked[v_steps];
            END IF;
        END LOOP;
    END LOOP;

    v_recency_values := v_new_values[1:4];      v_recency_customers := v_new_customers[1:4];
    v_frequency_values := v_new_values[5:8];    v_frequency_customers := v_new_customers[5:8];
    v_monetary_values := v_new_values[9:12];    v_monetary_customers := v_new_customers[9:12];
    RETURN QUERY
    WITH
    candidates AS (
        SELECT DISTINCT c.customer_id FROM unnest(v_candidates) AS c(customer_id)
    ),
    -- each candidate's new scores, from the new boundaries (a customer without a visit has none)
    scored AS (
        SELECT ca.ctid AS row_id,
               ca.rfm_recency_score, ca.rfm_frequency_score, ca.rfm_monetary_score, ca.rfm_segment,
               CASE WHEN ca.total_accepted_bookings > 0 THEN
                   zorina.rfm_score_from_boundaries('recency', ca.days_since_last_visit, ca.square_customer_id,
                                                    v_recency_values, v_recency_customers) END AS recency,
               CASE WHEN ca.total_accepted_bookings > 0 THEN
                   zorina.rfm_score_from_boundaries('frequency', ca.total_accepted_bookings, ca.square_customer_id,
                                                    v_frequency_values, v_frequency_customers) END AS frequency,
               CASE WHEN ca.total_accepted_bookings > 0 THEN
                   zorina.rfm_score_from_boundaries('monetary', ca.total_revenue_cents, ca.square_customer_id,
                                                    v_monetary_values, v_monetary_customers) END AS monetary
          FROM candidates c
          JOIN public.customer_analytics ca
            ON ca.organization_id = p_organization_id AND ca.square_customer_id = c.customer_id
        OFFSET 0  -- plain columns below: zorina.rfm_segment is inlined only for simple arguments
    )
    SELECT s.row_id, s.recency, s.frequency, s.monetary,
           zorina.rfm_segment(s.recency, s.frequency, s.monetary),
           NULL::text, NULL::integer, NULL::bigint[], NULL::text[]
      FROM scored s
     WHERE zorina.rfm_scores_moved(s.rfm_recency_score, s.rfm_frequency_score, s.rfm_monetary_score,
                                   s.rfm_segment, s.recency, s.frequency, s.monetary)
    UNION ALL
    SELECT NULL::tid, NULL::smallint, NULL::smallint, NULL::smallint, NULL::text,
           v_scores[n], v_new_ranked[n], v_new_values[4 * n - 3 : 4 * n], v_new_customers[4 * n - 3 : 4 * n]
      FROM generate_series(1, 3) AS n;
END
$$;
