/*
 * zorina.refresh_rfm(organization_ids, changed_customers DEFAULT NULL) -> rows updated
 *
 * Brings the RFM columns of the given organizations in line with zorina.rfm_moves (the
 * contract's organization-relative scores, derived from the stored rows), and their bucket
 * boundaries (zorina.rfm_boundaries) with them. changed_customers,
 * {"<organization id>": ["<square_customer_id>", ...]}, lists for an organization every customer
 * whose row this transaction changed: its scores are then found from those customers and the
 * previous boundaries (zorina.rfm_moves_after_changes) instead of comparing every row;
 * organizations not listed are compared whole. The organizations are scored in one statement,
 * one per parallel worker (zorina.collect_in_parallel); only rows whose scores or segment move
 * are written, found by ctid (scored in this transaction, under the refresh's lock: no one else
 * can have moved them) with a TID scan.
 */
-- the signatures it had before (re-runnable: gone after the first install)
DROP FUNCTION IF EXISTS zorina.refresh_rfm(uuid);
DROP FUNCTION IF EXISTS zorina.refresh_rfm(uuid[]);

CREATE OR REPLACE FUNCTION zorina.refresh_rfm(p_organization_ids uuid[], p_changed_customers jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_updated bigint;
    v_moves text;  -- where the moved rows come from
    v_scorers text[];  -- per organization, the call that finds its moved rows
BEGIN
    IF coalesce(cardinality(p_organization_ids), 0) = 0 THEN
        RETURN 0;
    END IF;
    -- the customer lists travel as literals: a parallel worker cannot read a temporary table
    -- (the organization named in each row: its boundary rows carry no row to tell it by)
    v_scorers := ARRAY(
        SELECT format('(SELECT %L::uuid AS organization_id, m.* FROM zorina.rfm_moves_after_changes(%L::uuid, %L::text[]) AS m) AS scored',
                      org.id, org.id,
                      CASE WHEN p_changed_customers ? org.id::text
                           THEN ARRAY(SELECT jsonb_array_elements_text(p_changed_customers -> org.id::text)) END)
          FROM unnest(p_organization_ids) WITH ORDINALITY AS org(id, position)
         ORDER BY org.position);
    IF cardinality(v_scorers) = 1 THEN
        -- one organization (the per-customer refresh of a webhook): nothing to spread over
        -- workers, no staging table to create
        v_moves := v_scorers[1];
    ELSE
        PERFORM zorina.collect_in_parallel('zorina_rfm_moves', ARRAY(
            SELECT 'SELECT * FROM ' || scorer FROM unnest(v_scorers) AS scorer));
        v_moves := 'pg_temp.zorina_rfm_moves';
    END IF;

    -- the moved rows read by a TID scan of their ctids: joined on ctid alone, with the staging
    -- table's guessed size, the planner hashed every row of the organizations (a sequential
    -- scan of 100k rows at S to update a few thousand); the new boundaries stored alongside
    -- (unless migration 0009 was rolled back)
    EXECUTE format(
        'WITH moves AS MATERIALIZED (SELECT * FROM %s),
         moved AS (
             UPDATE public.customer_analytics ca
                SET rfm_recency_score   = m.recency,
                    rfm_frequency_score = m.frequency,
                    rfm_monetary_score  = m.monetary,
                    rfm_segment         = m.segment,
                    updated_at          = now()
               FROM moves m
              WHERE ca.ctid = ANY (ARRAY(SELECT mv.row_id FROM moves mv WHERE mv.row_id IS NOT NULL))
                AND ca.ctid = m.row_id
                AND ca.organization_id = ANY ($1)  -- whatever the join, never another organization
             RETURNING 1)%s
         SELECT count(*) FROM moved',
        v_moves,
        CASE WHEN to_regclass('zorina.rfm_boundaries') IS NOT NULL THEN ',
         stored AS (
             INSERT INTO zorina.rfm_boundaries AS b
                    (organization_id, score, ranked_customers, boundary_values, boundary_customers)
             SELECT m.organization_id, m.score, m.ranked_customers, m.boundary_values, m.boundary_customers
               FROM moves m
              WHERE m.row_id IS NULL
             ON CONFLICT (organization_id, score) DO UPDATE
                SET ranked_customers   = excluded.ranked_customers,
                    boundary_values    = excluded.boundary_values,
                    boundary_customers = excluded.boundary_customers)' ELSE '' END)
      INTO v_updated
      USING p_organization_ids;
    RETURN v_updated;
END
$$;
