/*
 * zorina.refresh_rfm(organization_ids) -> rows updated
 *
 * Brings the RFM columns of the given organizations in line with zorina.rfm_moves (the
 * contract's organization-relative scores, derived from the stored rows). The organizations are
 * scored in one statement, one per parallel worker (zorina.collect_in_parallel); only rows whose
 * scores or segment move are written, found by ctid (scored in this transaction, under the
 * refresh's lock: no one else can have moved them).
 */
-- the one-organization signature it had before (re-runnable: gone after the first install)
DROP FUNCTION IF EXISTS zorina.refresh_rfm(uuid);

CREATE OR REPLACE FUNCTION zorina.refresh_rfm(p_organization_ids uuid[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_updated bigint;
    v_moves text;  -- where the moved rows come from
BEGIN
    IF coalesce(cardinality(p_organization_ids), 0) = 0 THEN
        RETURN 0;
    END IF;
    IF cardinality(p_organization_ids) = 1 THEN
        -- one organization (the per-customer refresh of a webhook): nothing to spread over
        -- workers, no staging table to create
        v_moves := format('zorina.rfm_moves(%L::uuid)', p_organization_ids[1]);
    ELSE
        PERFORM zorina.collect_in_parallel('zorina_rfm_moves', ARRAY(
            SELECT format('SELECT * FROM zorina.rfm_moves(%L::uuid)', org.id)
              FROM unnest(p_organization_ids) AS org(id)));
        v_moves := 'pg_temp.zorina_rfm_moves';
    END IF;

    EXECUTE format(
        'UPDATE public.customer_analytics ca
            SET rfm_recency_score   = m.recency,
                rfm_frequency_score = m.frequency,
                rfm_monetary_score  = m.monetary,
                rfm_segment         = m.segment,
                updated_at          = now()
           FROM %s m
          WHERE ca.organization_id = ANY ($1)  -- whatever the join, never the whole table
            AND ca.ctid = m.row_id', v_moves)
    USING p_organization_ids;
    GET DIAGNOSTICS v_updated = ROW_COUNT;
    RETURN v_updated;
END
$$;
