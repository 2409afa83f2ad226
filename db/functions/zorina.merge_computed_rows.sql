/*
 * zorina.merge_computed_rows(organization_ids, customer_ids) -> rows_inserted, rows_updated, rows_deleted
 *
 * Brings public.customer_analytics in line with the rows in pg_temp.zorina_computed (filled by
 * zorina.compute_organizations) for the given organizations, or only the listed customers of
 * them (the staging table may hold rows of other organizations too: they are left for their
 * own merge):
 *   - updates a row only when one of its metric values differs (IS DISTINCT FROM), so an
 *     unchanged customer costs no write and keeps its updated_at;
 *   - inserts rows for new profiles;
 *   - deletes rows whose profile no longer exists in square_existing_clients.
 * RFM columns are merged with a whole organization (the compute ranks it); for listed customers
 * they are left alone (zorina.refresh_rfm ranks the stored rows afterwards). created_at /
 * updated_at are bookkeeping: never copied.
 * The column list is read from the catalog (zorina.metric_columns), so a column added to the
 * table by a migration is merged without touching this function.
 * Every statement names the organization (and the customers) explicitly: joined on the staging
 * table's keys alone, the planner walked the whole primary key of customer_analytics once per
 * organization (20 organizations x 1M rows at L).
 */
-- the one-organization signature it had before (re-runnable: gone after the first install)
DROP FUNCTION IF EXISTS zorina.merge_computed_rows(uuid, text[]);

CREATE OR REPLACE FUNCTION zorina.merge_computed_rows(
    p_organization_ids uuid[], p_customer_ids text[],
    OUT rows_inserted bigint, OUT rows_updated bigint, OUT rows_deleted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
-- no merge joins: they sort the wide staging rows first (25 ms vs 8 ms per 10k)
SET enable_mergejoin = off
-- saved and restored here; switched off below for whole organizations only
SET enable_nestloop = on
-- the vanished-profile check is planned for the call's customers: a generic plan cached after
-- the whole-organization calls of full refreshes (made with nested loops off) filtered every
-- stored row of the organization by `= ANY (list)` one element at a time (see
-- zorina.compute_organizations)
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_columns text;
    v_stored  text;
    v_fresh   text;
BEGIN
    -- Whole organizations: hash joins only. A first load into a freshly analyzed empty table got
    -- a nested-loop anti join whose inner seq scan re-read every page the INSERT itself had
    -- added, once per row (17 s instead of 1 s for 40k rows). A few listed customers keep their
    -- index probes (a hash anti join would read every profile of the table). The function's
    -- SET clause puts the caller's value back on exit.
    IF p_customer_ids IS NULL THEN
        PERFORM set_config('enable_nestloop', 'off', true);
    END IF;

    SELECT string_agg(quote_ident(name), ', '),
           string_agg('t.' || quote_ident(name), ', '),
           string_agg('c.' || quote_ident(name), ', ')
      INTO v_columns, v_stored, v_fresh
      FROM unnest(zorina.metric_columns(p_customer_ids IS NULL)) AS name;

    -- row count and key statistics for the join plans below (a full ANALYZE of the 65 columns,
    -- jsonb included, costs as much as the merge itself); a few listed customers need none
    IF p_customer_ids IS NULL OR cardinality(p_customer_ids) > 1000 THEN
        ANALYZE pg_temp.zorina_computed (organization_id, square_customer_id);
    END IF;

    EXECUTE format(
        'UPDATE public.customer_analytics t
            SET (%1$s) = ROW(%3$s), updated_at = now()
           FROM pg_temp.zorina_computed c
          WHERE t.organization_id = ANY ($1)
            AND ($2 IS NULL OR t.square_customer_id = ANY ($2))
            AND t.organization_id = c.organization_id
            AND t.square_customer_id = c.square_customer_id
            AND (%2$s) IS DISTINCT FROM (%3$s)',
        v_columns, v_stored, v_fresh)
    USING p_organization_ids, p_customer_ids;
    GET DIAGNOSTICS rows_updated = ROW_COUNT;

    EXECUTE format(
        'INSERT INTO public.customer_analytics (organization_id, square_customer_id, %1$s)
         SELECT c.organization_id, c.square_customer_id, %2$s
           FROM pg_temp.zorina_computed c
          WHERE c.organization_id = ANY ($1)  -- the staging table may hold other organizations
            AND NOT EXISTS (SELECT 1 FROM public.customer_analytics t
                             WHERE t.organization_id = ANY ($1)
                               AND ($2 IS NULL OR t.square_customer_id = ANY ($2))
                               AND t.organization_id = c.organization_id
                               AND t.square_customer_id = c.square_customer_id)',
        v_columns, v_fresh)
    USING p_organization_ids, p_customer_ids;
    GET DIAGNOSTICS rows_inserted = ROW_COUNT;

    -- vanished profiles: keys first, from the two primary keys alone (index-only scans), then
    -- the rows; deleting straight from the anti join read every wide row of the organizations
    -- to find, usually, none (0.5 s per four organizations of 50k)
    WITH vanished AS MATERIALIZED (
        SELECT t.organization_id, t.square_customer_id
          FROM public.customer_analytics t
         WHERE t.organization_id = ANY (p_organization_ids)
           AND (p_customer_ids IS NULL OR t.square_customer_id = ANY (p_customer_ids))
           AND NOT EXISTS (SELECT 1 FROM public.square_existing_clients s
                            WHERE s.organization_id = ANY (p_organization_ids)  -- for the planner
                              AND s.organization_id = t.organization_id
                              AND s.square_customer_id = t.square_customer_id)
    )
    DELETE FROM public.customer_analytics t
     USING vanished v
     WHERE t.organization_id = ANY (p_organization_ids)  -- when some vanished: these rows at most
       AND t.organization_id = v.organization_id
       AND t.square_customer_id = v.square_customer_id;
    GET DIAGNOSTICS rows_deleted = ROW_COUNT;

    -- A first load (or a mass delete) leaves the statistics saying the table is empty; the next
    -- joins against it would go quadratic (seen: 105 s instead of 10 s). Refresh the
    -- statistics when the row count moved by more than a fifth: the row count, and the columns
    -- the refresh's own statements join and group on. Not every column: that ANALYZE also
    -- computes every expression index's statistics and reads the notes of 30,000 sampled rows:
    -- 1.1 s at 100k customers against 0.2 s, run after each batch of a first load (~3 s of the
    -- 9 s first load at S). Autovacuum's ANALYZE fills in the rest after the commit: the inserted
    -- rows still count towards its threshold.
    IF rows_inserted + rows_deleted > 1000
       AND (rows_inserted + rows_deleted) * 5 >
           (SELECT greatest(c.reltuples, 0) FROM pg_catalog.pg_class c
             WHERE c.oid = 'public.customer_analytics'::regclass) THEN
        ANALYZE public.customer_analytics (organization_id, square_customer_id, customer_segment);
    END IF;
END
$$;
