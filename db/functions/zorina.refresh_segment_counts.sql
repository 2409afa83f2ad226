/*
 * zorina.refresh_segment_counts(organization_ids) -> rows written
 *
 * Brings zorina.segment_counts in line with customer_analytics for the given organizations:
 * one count per (organization, customer_segment) present, segments that emptied removed. Writes
 * only counts that moved. Called, in the same transaction, for every organization a refresh
 * recomputed whole, and by zorina.shift_segment_counts when the stored counts turn out not to be
 * exact; after a few customers moved, zorina.shift_segment_counts follows them instead of
 * recounting. Either way the summary never disagrees with the table it counts.
 */
CREATE OR REPLACE FUNCTION zorina.refresh_segment_counts(p_organization_ids uuid[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_changed bigint;
BEGIN
    -- one statement: the delete and the upsert see the same counts and touch disjoint keys
    WITH counted AS (
        SELECT ca.organization_id, ca.customer_segment, count(*) AS customers
          FROM public.customer_analytics ca
         WHERE ca.organization_id = ANY (p_organization_ids)
           AND ca.customer_segment IS NOT NULL
         GROUP BY ca.organization_id, ca.customer_segment
    ),
    emptied AS (
        DELETE FROM zorina.segment_counts s
         WHERE s.organization_id = ANY (p_organization_ids)
           AND NOT EXISTS (SELECT 1 FROM counted c
                            WHERE c.organization_id = s.organization_id
                              AND c.customer_segment = s.customer_segment)
        RETURNING 1
    ),
    moved AS (
        INSERT INTO zorina.segment_counts AS s (organization_id, customer_segment, customers)
        SELECT c.organization_id, c.customer_segment, c.customers FROM counted c
        ON CONFLICT (organization_id, customer_segment) DO UPDATE
           SET customers = excluded.customers
         WHERE s.customers IS DISTINCT FROM excluded.customers
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM emptied) + (SELECT count(*) FROM moved) INTO v_changed;
    RETURN v_changed;
END
$$;
