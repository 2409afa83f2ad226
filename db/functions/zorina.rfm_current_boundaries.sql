/*
 * zorina.rfm_current_boundaries(organization_id)
 *   -> (score, ranked_customers, boundary_values, boundary_customers), one row per RFM score
 *
 * The organization's RFM bucket boundaries (the shape of zorina.rfm_boundaries, migration 0009)
 * as its stored rows rank now: how many customers have a visit, and for buckets 1..4 the ranking
 * key (the score's column, square_customer_id) of the bucket's last customer, at position
 * zorina.rfm_bucket_end(bucket, ranked). Depends on the ranking keys only, not on the stored
 * scores. Reads each ranking once, by its rank-ordered index (migration 0005), and counts the
 * ranked customers once more: ~100 ms an organization of 50k. Used when every row is compared
 * anyway (zorina.rfm_moves_compared_whole), not after a full refresh (which forgets the
 * boundaries instead). Writes nothing: PARALLEL SAFE, so it runs in the workers that score
 * organizations.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_current_boundaries(p_organization_id uuid)
RETURNS TABLE (score text, ranked_customers integer, boundary_values bigint[], boundary_customers text[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public
SET jit = off  -- milliseconds of work
AS $$
DECLARE
    v_ranked integer;
BEGIN
    SELECT count(*) INTO v_ranked
      FROM public.customer_analytics ca
     WHERE ca.organization_id = p_organization_id
       AND ca.total_accepted_bookings > 0;
    FOREACH score IN ARRAY ARRAY['recency', 'frequency', 'monetary'] LOOP
        -- one pass in rank order; the four positions picked by number (a position repeats
        -- while fewer than five customers are ranked; none below 1: bucket empty, NULL)
        EXECUTE format(
            'SELECT array_agg(k.value ORDER BY b.bucket), array_agg(k.customer_id ORDER BY b.bucket)
               FROM generate_series(1, 4) AS b(bucket)
               LEFT JOIN (SELECT r.value, r.customer_id, r.position
                            FROM (SELECT ca.%1$I::bigint AS value, ca.square_customer_id AS customer_id,
                                         row_number() OVER (ORDER BY ca.%1$I %2$s, ca.square_customer_id COLLATE "C") AS position
                                    FROM public.customer_analytics ca
                                   WHERE ca.organization_id = $1
                                     AND ca.total_accepted_bookings > 0) AS r
                           WHERE r.position IN (zorina.rfm_bucket_end(1, $2), zorina.rfm_bucket_end(2, $2),
                                                zorina.rfm_bucket_end(3, $2), zorina.rfm_bucket_end(4, $2))) AS k
                      ON k.position = zorina.rfm_bucket_end(b.bucket, $2)',
            zorina.rfm_key_column(score), CASE WHEN score = 'recency' THEN 'DESC' ELSE 'ASC' END)
          INTO boundary_values, boundary_customers
          USING p_organization_id, v_ranked;
        ranked_customers := v_ranked;
        RETURN NEXT;
    END LOOP;
END
$$;
