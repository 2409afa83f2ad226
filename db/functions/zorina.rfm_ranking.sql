/*
 * zorina.rfm_ranking(organization_id, score) -> text[]
 *
 * The organization's customers with a visit in the contract's rank order for one RFM score
 * ('recency', 'frequency' or 'monetary'; ties by square_customer_id, as in zorina.rfm_moves and
 * the compute), read from the score's rank-ordered partial index (migration 0005): an
 * index-only scan, no sort. Position k in the array scores zorina.rfm_bucket(k, cardinality).
 */
CREATE OR REPLACE FUNCTION zorina.rfm_ranking(p_organization_id uuid, p_score text)
RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    -- the score's column and direction (zorina.rfm_key_column names the column, and refuses
    -- an unknown score with 22023)
    v_rank_order constant text := format('ca.%I %s', zorina.rfm_key_column(p_score),
                                         CASE WHEN p_score = 'recency' THEN 'DESC' ELSE 'ASC' END);
    v_ranked text[];
BEGIN
    -- ARRAY(subquery) keeps the subquery's order
    EXECUTE format(
        'SELECT ARRAY(SELECT ca.square_customer_id
                        FROM public.customer_analytics ca
                       WHERE ca.organization_id = $1
                         AND ca.total_accepted_bookings > 0
                       ORDER BY %s, ca.square_customer_id COLLATE "C")', v_rank_order)
      INTO v_ranked
      USING p_organization_id;
    RETURN v_ranked;
END
$$;
