/*
 * zorina.merge_computed_rows(organization_ids, customer_ids)
 *   -> rows_inserted, rows_updated, rows_deleted, changed_organization_ids
 *
 * Brings public.customer_analytics in line with the rows in pg_temp.zorina_computed (filled by
 * zorina.compute_organizations) for the given organizations whole (customer_ids NULL), or for
 * listed customers only: then customer_ids[i] is a customer of organization_ids[i] (the two
 * arrays in step, one entry per customer; the listed customers of every organization of an
 * incremental refresh merged by one call). The staging table may hold rows of other
 * organizations or customers too: they are left for their own merge.
 *   - updates a row only when one of its metric values differs (IS DISTINCT FROM), so an
 *     unchanged customer costs no write and keeps its updated_at;
 *   - inserts rows for new profiles;
 *   - deletes rows whose profile no longer exists in square_existing_clients.
 * changed_organization_ids: the organizations with a row inserted, updated or deleted.
 * RFM columns are merged with a whole organization (the compute ranks it); for listed customers
 * they are left alone (zorina.refresh_rfm ranks the stored rows afterwards). created_at /
 * updated_at are bookkeeping: never copied.
 * The column list is read from the catalog (zorina.metric_columns), so a column added to the
 * table by a migration is merged without touching this function.
 * Every statement names the organizations (and the customers) explicitly: joined on the staging
 * table's keys alone, the planner walked the whole primary key of customer_analytics once per
 * organization (20 organizations x 1M rows at L).
 */
-- the signatures it had before (re-runnable: gone after the first install; the OUT
-- parameters are part of the result type, so CREATE OR REPLACE cannot add one)
DROP FUNCTION IF EXISTS zorina.merge_computed_rows(uuid, text[]);
DO $drop$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                WHERE p.oid = to_regprocedure('zorina.merge_computed_rows(uuid[], text[])')
                  AND NOT 'changed_organization_ids' = ANY (p.proargnames)) THEN
        DROP FUNCTION zorina.merge_computed_rows(uuid[], text[]);
    END IF;
END
$drop$;

CREATE OR REPLACE FUNCTION zorina.merge_computed_rows(
    p_organization_ids uuid[], p_customer_ids text[],
    OUT rows_inserted bigint, OUT rows_updated bigint, OUT rows_deleted bigint,
    OUT changed_organization_ids uuid[])
LANGUAGE plpgsql
SET search_path = pg_catalog, public
-- no merge joins: they sort the wide staging rows first (25 ms vs 8 ms per 10k)
SET enable_mergejoin = off
-- saved and restored here; switched off below for whole organizations only
SET enable_nestloop = on
-- saved and restored here; switched off below for listed customers only
SET enable_hashagg = on
AS $$
DECLARE
    v_columns text;
    v_stored  text;
    v_fresh   text;
    -- which rows the statements below may touch: a condition on the row %1$s (t: stored, c: staged)
    v_in_scope text;
    -- the organizations named once more inside the joins, for the planner to restrict each side
    -- of a hash join to them; nothing for listed customers, whose organization array has one
    -- entry per customer: `= ANY` of it in an index probe's condition is costed as that many
    -- index searches per probe, and the planner then hashed all of customer_analytics and
    -- square_existing_clients instead (S, 1%: ~190 ms instead of ~10 ms)
    v_same_organizations text;
    v_updated_organizations uuid[];
    v_inserted_organizations uuid[];
    v_deleted_organizations uuid[];
BEGIN
    IF p_customer_ids IS NULL THEN
        -- Whole organizations: hash joins only. A first load into a freshly analyzed empty table
        -- got a nested-loop anti join whose inner seq scan re-read every page the INSERT itself
        -- had added, once per row (17 s instead of 1 s for 40k rows). A few listed customers keep
        -- their index probes (a hash anti join would read every profile of the table). The
        -- function's SET clause puts the caller's value back on exit.
        PERFORM set_config('enable_nestloop', 'off', true);
        v_in_scope := '%1$s.organization_id = ANY ($1)';
        v_same_organizations := '%1$s.organization_id = ANY ($1)';
    ELSIF cardinality(p_customer_ids) IS DISTINCT FROM cardinality(p_organization_ids) THEN
        RAISE EXCEPTION 'zorina.merge_computed_rows: % listed customers but % organizations',
                cardinality(p_customer_ids), coalesce(cardinality(p_organization_ids), 0)
            USING ERRCODE = '22023', HINT = 'pass each listed customer''s organization at the same position';
    ELSE
        -- the listed (organization, customer) pairs, probed by the primary key in its order: made
        -- unique by a sort, not a hash (which hands them over in no order: at L, 9k customers
        -- over 20 organizations, the probes then jumped about the index and the table)
        PERFORM set_config('enable_hashagg', 'off', true);
        v_in_scope := '(%1$s.organization_id, %1$s.square_customer_id) IN
                           (SELECT l.organization_id, l.customer_id FROM unnest($1, $2) AS l(organization_id, customer_id))';
        v_same_organizations := 'true';
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

    -- (statements built here and planned for the call's arrays: EXECUTE plans every time)
    EXECUTE format(
        'WITH updated AS (
             UPDATE public.customer_analytics t
                SET (%1$s) = ROW(%3$s), updated_at = now()
               FROM pg_temp.zorina_computed c
              WHERE %4$s
                AND t.organization_id = c.organization_id
                AND t.square_customer_id = c.square_customer_id
                AND (%2$s) IS DISTINCT FROM (%3$s)
             RETURNING t.organization_id)
         SELECT count(*), array_agg(DISTINCT u.organization_id) FROM updated u',
        v_columns, v_stored, v_fresh, format(v_in_scope, 't'))
      INTO rows_updated, v_updated_organizations
      USING p_organization_ids, p_customer_ids;

    EXECUTE format(
        'WITH inserted AS (
             INSERT INTO public.customer_analytics (organization_id, square_customer_id, %1$s)
             SELECT c.organization_id, c.square_customer_id, %2$s
               FROM pg_temp.zorina_computed c
              WHERE %3$s  -- the staging table may hold other organizations and customers
                AND NOT EXISTS (SELECT 1 FROM public.customer_analytics t
                                 WHERE %4$s
                                   AND t.organization_id = c.organization_id
                                   AND t.square_customer_id = c.square_customer_id)
             RETURNING organization_id)
         SELECT count(*), array_agg(DISTINCT i.organization_id) FROM inserted i',
        v_columns, v_fresh, format(v_in_scope, 'c'), format(v_same_organizations, 't'))
      INTO rows_inserted, v_inserted_organizations
      USING p_organization_ids, p_customer_ids;

    -- vanished profiles: keys first, from the two primary keys alone (index-only scans), then
    -- the rows; deleting straight from the anti join read every wide row of the organizations
    -- to find, usually, none (0.5 s per four organizations of 50k)
    EXECUTE format(
        'WITH vanished AS MATERIALIZED (
             SELECT t.organization_id, t.square_customer_id
               FROM public.customer_analytics t
              WHERE %1$s
                AND NOT EXISTS (SELECT 1 FROM public.square_existing_clients s
                                 WHERE %2$s
                                   AND s.organization_id = t.organization_id
                                   AND s.square_customer_id = t.square_customer_id)
         ),
         deleted AS (
             DELETE FROM public.customer_analytics t
              USING vanished v
              WHERE %3$s  -- when some vanished: these rows at most
                AND t.organization_id = v.organization_id
                AND t.square_customer_id = v.square_customer_id
             RETURNING t.organization_id)
         SELECT count(*), array_agg(DISTINCT d.organization_id) FROM deleted d',
        format(v_in_scope, 't'), format(v_same_organizations, 's'), format(v_same_organizations, 't'))
      INTO rows_deleted, v_deleted_organizations
      USING p_organization_ids, p_customer_ids;

    changed_organization_ids := ARRAY(
        SELECT DISTINCT changed.organization_id
          FROM unnest(coalesce(v_updated_organizations, '{}') || coalesce(v_inserted_organizations, '{}')
                      || coalesce(v_deleted_organizations, '{}')) AS changed(organization_id));

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
