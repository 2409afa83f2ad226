/*
 * refresh_customer_analytics(mode DEFAULT 'recent', organization_id DEFAULT NULL, as_of DEFAULT now())
 *   -> customer_analytics_refresh_result
 *
 * The refresh DBAs call from psql and pg_cron runs:
 *     SELECT * FROM refresh_customer_analytics('full');
 *     SELECT * FROM refresh_customer_analytics('org', organization_id => '...', as_of => '2026-06-15 12:00+00');
 *
 * Modes (contract section 4; every mode leaves exactly what `full` would at the same as_of):
 *   full         every organization, or the one given
 *   org          one organization (organization_id required)
 *   recent, incremental
 *                named by the contract, not built yet: refused with 0A000 and a hint
 * Per organization: compute every customer (customer_analytics_compute), merge only rows that
 * changed, delete rows of vanished profiles, recompute RFM from the table, record the as_of in
 * zorina.refresh_state. One transaction: on error nothing stays, except the application_logs
 * row, written autonomously (zorina.write_refresh_log), and the error is re-raised unchanged.
 *
 * Single flight: a refresh of every organization takes advisory lock (23051, 0) exclusively,
 * a one-organization refresh takes it shared plus (23051, hash of the id) exclusively. A refresh
 * that finds its scope busy returns at once with skipped = true (pg_cron would otherwise queue
 * runs behind a slow one).
 */
CREATE OR REPLACE FUNCTION public.refresh_customer_analytics(
    mode text DEFAULT 'recent',
    organization_id uuid DEFAULT NULL,
    as_of timestamptz DEFAULT now())
RETURNS public.customer_analytics_refresh_result
LANGUAGE plpgsql
SET search_path = pg_catalog, public
SET TimeZone = 'UTC'
AS $function$
#variable_conflict use_column
DECLARE
    v_mode   constant text        := refresh_customer_analytics.mode;
    v_org    constant uuid        := refresh_customer_analytics.organization_id;
    v_as_of  constant timestamptz := refresh_customer_analytics.as_of;
    v_valid_modes constant text := 'full, org, recent, incremental';
    v_future_tolerance constant interval := interval '5 minutes';
    v_started timestamptz := clock_timestamp();
    v_result public.customer_analytics_refresh_result;
    v_merge record;
    v_scope_org uuid;
    v_count bigint;
    v_rfm_updated bigint := 0;
    v_state text; v_message text; v_detail text; v_hint text;
BEGIN
    -- 1. inputs: fail precisely, before anything changes
    IF v_mode IS NULL THEN
        RAISE EXCEPTION 'refresh mode must not be NULL'
            USING ERRCODE = '22004', HINT = 'valid modes: ' || v_valid_modes;
    END IF;
    IF v_mode NOT IN ('full', 'org', 'recent', 'incremental') THEN
        RAISE EXCEPTION 'unknown refresh mode: %', v_mode
            USING ERRCODE = '22023', HINT = 'valid modes: ' || v_valid_modes;
    END IF;
    IF v_mode IN ('recent', 'incremental') THEN
        RAISE EXCEPTION 'refresh mode % is not available in this version', v_mode
            USING ERRCODE = '0A000', HINT = 'use full, or org with organization_id => ...';
    END IF;
    IF v_mode = 'org' AND v_org IS NULL THEN
        RAISE EXCEPTION 'refresh mode org needs an organization_id'
            USING ERRCODE = '22023',
                  HINT = 'SELECT * FROM refresh_customer_analytics(''org'', organization_id => ''<uuid>'')';
    END IF;
    IF v_org IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = v_org) THEN
        RAISE EXCEPTION 'organization % does not exist', v_org
            USING ERRCODE = '22023', HINT = 'SELECT id, name FROM organizations lists them';
    END IF;
    IF v_as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be NULL'
            USING ERRCODE = '22004', HINT = 'omit it to refresh as of now()';
    END IF;
    IF v_as_of > now() + v_future_tolerance THEN
        RAISE EXCEPTION 'as_of % is in the future', v_as_of
            USING ERRCODE = '22023', HINT = 'as_of may be at most ' || v_future_tolerance || ' after now()';
    END IF;

    v_result := ROW(v_mode, v_org, v_as_of, 0, 0, 0, 0, 0, false);

    -- 2. single flight per scope; never wait
    IF v_org IS NULL THEN
        IF NOT pg_try_advisory_xact_lock(23051, 0) THEN
            v_result.skipped := true;
        END IF;
    ELSIF NOT (pg_try_advisory_xact_lock_shared(23051, 0)
               AND pg_try_advisory_xact_lock(23051, hashtext(v_org::text))) THEN
        v_result.skipped := true;
    END IF;
    IF v_result.skipped THEN
        RAISE NOTICE 'another refresh of this scope is running: skipped';
        v_result.duration_ms := round(extract(epoch FROM clock_timestamp() - v_started) * 1000);
        RETURN v_result;
    END IF;

    -- 3. the work, all or nothing
    BEGIN
        PERFORM zorina.prepare_computed_rows();

        FOR v_scope_org IN
            SELECT o.id FROM public.organizations o
             WHERE v_org IS NULL OR o.id = v_org
             ORDER BY o.id
        LOOP
            TRUNCATE pg_temp.zorina_computed;
            INSERT INTO pg_temp.zorina_computed
            SELECT * FROM public.customer_analytics_compute(v_scope_org, NULL, v_as_of);
            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_result.customers_recomputed := v_result.customers_recomputed + v_count;
            ANALYZE pg_temp.zorina_computed;

            v_merge := zorina.merge_computed_rows(v_scope_org, NULL);
            v_result.rows_inserted := v_result.rows_inserted + v_merge.rows_inserted;
            v_result.rows_updated  := v_result.rows_updated + v_merge.rows_updated;
            v_result.rows_deleted  := v_result.rows_deleted + v_merge.rows_deleted;

            v_rfm_updated := v_rfm_updated + zorina.refresh_rfm(v_scope_org);

            INSERT INTO zorina.refresh_state AS s (organization_id, as_of, mode)
            VALUES (v_scope_org, v_as_of, v_mode)
            ON CONFLICT (organization_id) DO UPDATE
               SET as_of = excluded.as_of, mode = excluded.mode, refreshed_at = now();
        END LOOP;

        IF v_org IS NULL THEN
            -- rows of organizations that no longer exist
            DELETE FROM public.customer_analytics ca
             WHERE NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = ca.organization_id);
            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_result.rows_deleted := v_result.rows_deleted + v_count;
            DELETE FROM zorina.refresh_state s
             WHERE NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = s.organization_id);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
        PERFORM zorina.write_refresh_log('error', v_org, jsonb_build_object(
            'mode', v_mode, 'organization_id', v_org, 'as_of', v_as_of,
            'sqlstate', v_state, 'message', v_message, 'detail', nullif(v_detail, ''),
            'hint', nullif(v_hint, ''),
            'duration_ms', round(extract(epoch FROM clock_timestamp() - v_started) * 1000)), true);
        RAISE;
    END;

    v_result.duration_ms := round(extract(epoch FROM clock_timestamp() - v_started) * 1000);
    PERFORM zorina.write_refresh_log('completed', v_org, jsonb_build_object(
        'mode', v_mode, 'organization_id', v_org, 'as_of', v_as_of,
        'customers_recomputed', v_result.customers_recomputed,
        'rows_upserted', v_result.rows_inserted + v_result.rows_updated,
        'rows_inserted', v_result.rows_inserted, 'rows_updated', v_result.rows_updated,
        'rows_deleted', v_result.rows_deleted, 'rfm_rows_updated', v_rfm_updated,
        'duration_ms', v_result.duration_ms));
    RETURN v_result;
END
$function$;

COMMENT ON FUNCTION public.refresh_customer_analytics(text, uuid, timestamptz) IS
    'Refreshes customer_analytics (modes: full, org; recent and incremental are reserved). One transaction, single flight per scope, one application_logs row per run.';
