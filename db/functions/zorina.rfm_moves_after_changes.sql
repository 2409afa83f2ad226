/*
 * zorina.rfm_moves_after_changes(organization_id, changed_customers)
 *   -> (row_id, recency, frequency, monetary, segment, score, ranked_customers, boundary_values,
 *       boundary_customers)
 *
 * Exactly what zorina.rfm_moves(organization_id) returns (the rows whose stored scores or segment
 * move, by ctid), then the organization's new RFM bucket boundaries (zorina.rfm_boundaries' shape,
 * one row per score, row_id NULL) for the caller to store.
 * changed_customers lists every customer whose row this transaction inserted, updated or deleted
 * (a superset is fine), the stored scores being exact before (every refresh ends with them
 * exact); NULL: unknown, every row is compared (zorina.rfm_moves).
 * 1. Usually from the previous boundaries: zorina.rfm_moves_from_boundaries, a cost that follows
 *    the change.
 * 2. When it cannot (no stored boundaries yet, a changed customer's row deleted, ...): per score,
 *    the new rank order from its index (zorina.rfm_ranking, index-only), then the unchanged
 *    customers whose stored score may differ (zorina.rfm_stored_crossings: a binary search per
 *    bucket boundary). Only those and the changed customers are compared with their stored rows;
 *    the scores are read off their positions (zorina.rfm_bucket).
 *    The boundaries are then read off those rankings.
 * 3. When more than an eighth of the ranked customers changed (comparing every row is then
 *    cheaper) or a stored score is missing where the premise says there is one: every row
 *    (zorina.rfm_moves_compared_whole), the boundaries read off the index.
 */
-- the shape it had before the boundaries (re-runnable: gone after the first install)
DROP FUNCTION IF EXISTS zorina.rfm_moves_after_changes(uuid, text[]);

CREATE OR REPLACE FUNCTION zorina.rfm_moves_after_changes(
    p_organization_id uuid, p_changed_customers text[])
RETURNS TABLE (row_id tid, recency smallint, frequency smallint, monetary smallint, segment text,
               score text, ranked_customers integer, boundary_values bigint[], boundary_customers text[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
-- ~1 ms per organization from the boundaries, ~20 ms per 10k customers ranked whole: costly
-- enough for zorina.collect_in_parallel to use workers
COST 200000 ROWS 100
SET search_path = pg_catalog, public
SET jit = off  -- milliseconds of work
AS $$
DECLARE
    v_found bigint;
BEGIN
    IF p_changed_customers IS NULL THEN
        RETURN QUERY SELECT * FROM zorina.rfm_moves_compared_whole(p_organization_id);
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM zorina.rfm_moves_from_boundaries(p_organization_id, p_changed_customers);
    GET DIAGNOSTICS v_found = ROW_COUNT;
    IF v_found = 0 THEN  -- (it returns at least its three boundary rows, or nothing when it cannot)
        RETURN QUERY SELECT * FROM zorina.rfm_moves_ranked_whole(p_organization_id, p_changed_customers);
    END IF;
END
$$;
