/*
 * zorina.rfm_moves_compared_whole(organization_id)
 *   -> (row_id, recency, frequency, monetary, segment, score, ranked_customers, boundary_values,
 *       boundary_customers)
 *
 * zorina.rfm_moves (every stored row compared with the organization's rankings), then the
 * organization's bucket boundaries as its rows rank now (zorina.rfm_current_boundaries), one row
 * per score without a row_id: the shape zorina.rfm_moves_after_changes returns, for when every
 * row must be compared (no list of changed customers, too many of them, a stored score missing).
 */
CREATE OR REPLACE FUNCTION zorina.rfm_moves_compared_whole(p_organization_id uuid)
RETURNS TABLE (row_id tid, recency smallint, frequency smallint, monetary smallint, segment text,
               score text, ranked_customers integer, boundary_values bigint[], boundary_customers text[])
LANGUAGE sql STABLE PARALLEL SAFE
COST 200000 ROWS 100
SET search_path = pg_catalog, public
SET jit = off  -- milliseconds of work
AS $$
    SELECT m.row_id, m.recency, m.frequency, m.monetary, m.segment,
           NULL::text, NULL::integer, NULL::bigint[], NULL::text[]
      FROM zorina.rfm_moves(p_organization_id) AS m
    UNION ALL
    SELECT NULL::tid, NULL::smallint, NULL::smallint, NULL::smallint, NULL::text,
           b.score, b.ranked_customers, b.boundary_values, b.boundary_customers
      FROM zorina.rfm_current_boundaries(p_organization_id) AS b
$$;
