/*
 * zorina.shift_segment_counts(organization_id, segments_left, segments_joined) -> void
 *
 * Some customers of the organization moved between lifecycle segments: segments_left holds the
 * segment each of them left, segments_joined the one each joined (one entry per customer, NULL
 * for a row that appeared or went, or a customer without a segment). zorina.segment_counts
 * follows by the difference, without recounting the organization (which reads every row of it:
 * 40 ms for 10 organizations of 10k after each incremental refresh at S). Counts that reach 0
 * lose their row. Should a count come out negative (the stored counts were not exact), the
 * organization is recounted instead (zorina.refresh_segment_counts). Used by the incremental
 * refresh and by the per-customer refresh (one customer: one entry each). The caller holds the
 * organization's refresh lock.
 */
-- the one-customer form it replaces (re-runnable: gone after the first install)
DROP FUNCTION IF EXISTS zorina.shift_segment_count(uuid, text, text);

CREATE OR REPLACE FUNCTION zorina.shift_segment_counts(
    p_organization_id uuid, p_segments_left text[], p_segments_joined text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_off boolean;
BEGIN
    -- one statement: the delete and the upsert see the same counts and touch disjoint keys
    WITH
    difference AS (
        SELECT moves.segment, sum(moves.change) AS change
          FROM (SELECT l.segment, -1 AS change FROM unnest(p_segments_left) AS l(segment)
                UNION ALL
                SELECT j.segment, 1 FROM unnest(p_segments_joined) AS j(segment)) AS moves
         WHERE moves.segment IS NOT NULL
         GROUP BY moves.segment
        HAVING sum(moves.change) <> 0
    ),
    shifted AS (
        SELECT d.segment, coalesce(s.customers, 0) + d.change AS customers
          FROM difference d
          LEFT JOIN zorina.segment_counts s
                 ON s.organization_id = p_organization_id AND s.customer_segment = d.segment
    ),
    emptied AS (
        DELETE FROM zorina.segment_counts s
         USING shifted c
         WHERE s.organization_id = p_organization_id
           AND s.customer_segment = c.segment
           AND c.customers = 0
    ),
    moved AS (
        INSERT INTO zorina.segment_counts AS s (organization_id, customer_segment, customers)
        SELECT p_organization_id, c.segment, c.customers FROM shifted c WHERE c.customers > 0
        ON CONFLICT (organization_id, customer_segment) DO UPDATE SET customers = excluded.customers
    )
    SELECT coalesce(bool_or(c.customers < 0), false) INTO v_off FROM shifted c;
    IF v_off THEN
        PERFORM zorina.refresh_segment_counts(ARRAY[p_organization_id]);
    END IF;
END
$$;
