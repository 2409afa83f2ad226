/*
 * refresh_customer_analytics(mode DEFAULT 'recent', organization_id DEFAULT NULL, as_of DEFAULT now())
 *   -> customer_analytics_refresh_result
 *
 * The refresh DBAs call from psql and pg_cron runs:
 *     SELECT * FROM refresh_customer_analytics('full');
 *     SELECT * FROM refresh_customer_analytics('org', organization_id => '...', as_of => '2026-06-15 12:00+00');
 *
 * Modes (contract section 4): every mode leaves exactly what `full` would at the same as_of;
 * they differ in cost only.
 *   full         every organization (or the one given): every customer recomputed
 *   org          one organization (organization_id required): every customer recomputed
 *   incremental  per organization: the dirty keys the triggers recorded, plus the customers time
 *                moved since the previous refresh (zorina.customers_to_recompute); then the
 *                time-relative columns of everyone else (zorina.refresh_time_relative)
 *   recent       incremental plus every customer with a source row created, updated or starting
 *                in the last 90 days: the safety net for writes that bypassed the triggers
 * incremental and recent only move forward: an as_of before an organization's latest refresh is
 * refused (use full or org). An organization never refreshed, or whose settings changed, is
 * recomputed whole in any mode, and so is one where listing the customers would be dearer than
 * one pass over it (zorina.whole_organization_is_cheaper; in recent mode asked first of the
 * customers who booked in its window, zorina.recently_booked_customer_count).
 *
 * Per organization: compute (zorina.compute_customer_rows), merge only rows that changed,
 * delete rows of vanished profiles, bring RFM and the segment counts in line (after a few
 * customers, from what moved: zorina.refresh_rfm, zorina.shift_segment_counts; for a whole
 * organization, ranked and recounted), record the as_of in zorina.refresh_state, and delete
 * the dirty keys it claimed. Organizations recomputed whole (every one in full/org mode) are
 * computed a few at a time by one statement, one organization per parallel worker
 * (zorina.compute_organizations): the refresh stays one transaction and still uses more than
 * one core. The listed customers of every other organization are computed by one such
 * statement too (by the leader alone when they are few). Dirty keys are claimed with FOR
 * UPDATE SKIP LOCKED and deleted only by a refresh that commits, so a failed run loses none.
 * One transaction: on error nothing stays, except the application_logs row, written
 * autonomously (zorina.write_refresh_log), and the error is re-raised unchanged.
 *
 * Single flight: a refresh of every organization takes advisory lock (23051, 0) exclusively,
 * a one-organization refresh takes it shared plus (23051, hash of the id) exclusively. A refresh
 * that finds its scope busy returns at once with skipped = true (pg_cron would otherwise queue
 * runs behind a slow one).
 * jit = off for the whole run, whatever the server's setting (see the SET clause).
 */
CREATE OR REPLACE FUNCTION public.refresh_customer_analytics(
    mode text DEFAULT 'recent',
    organization_id uuid DEFAULT NULL,
    as_of timestamptz DEFAULT now())
RETURNS public.customer_analytics_refresh_result
LANGUAGE plpgsql
SET search_path = pg_catalog, public
SET TimeZone = 'UTC'
-- for every statement of the refresh, its parallel workers included: at PostgreSQL's default
-- (jit = on, jit_above_cost 100000) the statement that calls the compute for an incremental
-- run's listed customers (the compute's COST says "expensive") was compiled every run, at more
-- cost than running it (measured at S, 1% changed: 360 ms of an 850 ms run)
SET jit = off
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
    v_latest_as_of timestamptz;
    v_previous_as_of timestamptz;
    v_claimed_ids bigint[];
    v_dirty_customers text[];
    v_whole_organization boolean;
    v_customers text[];
    -- the listed customers of every listed organization as (organization, customer) pairs
    v_listed_pair_organizations uuid[];
    v_listed_pair_customers text[];
    -- per listed organization, the segments of its listed customers' rows before / after the merge
    v_segments_left_by_org jsonb := '{}';
    v_segments_joined_by_org jsonb := '{}';
    -- the listed organizations with a row the merge inserted, updated or deleted
    v_merged_organizations uuid[] := ARRAY[]::uuid[];
    v_all_claimed_ids bigint[] := ARRAY[]::bigint[];
    v_refreshed uuid[] := ARRAY[]::uuid[];
    v_whole_organizations uuid[] := ARRAY[]::uuid[];
    v_listed_organizations uuid[] := ARRAY[]::uuid[];
    -- per listed organization, the customers to recompute: {"<organization id>": [...]}
    v_listed_customers jsonb := '{}';
    v_moved_organizations uuid[] := ARRAY[]::uuid[];
    v_time_moved text[];
    v_time_segments_left text[];
    v_time_segments_joined text[];
    v_segments_left text[];
    v_segments_joined text[];
    -- per moved organization, every customer whose row changed: RFM is then re-ranked from them
    v_changed_customers jsonb := '{}';
    -- organizations computed by one statement (zorina.compute_organizations): enough to keep two
    -- parallel workers busy when organizations differ in size, few enough to bound the staging
    -- table (4 x 50k customers at L)
    v_batch_size constant integer := 4;
    v_batch_start integer;
    v_batch uuid[];
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

    IF v_mode IN ('recent', 'incremental') THEN
        SELECT max(s.as_of) INTO v_latest_as_of
          FROM zorina.refresh_state s WHERE v_org IS NULL OR s.organization_id = v_org;
        IF v_as_of < v_latest_as_of THEN
            RAISE EXCEPTION 'refresh mode % cannot go back in time: as_of % is before the latest refresh (%)',
                    v_mode, v_as_of, v_latest_as_of
                USING ERRCODE = '22023',
                      HINT = 'use full or org to recompute at an earlier instant';
        END IF;
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
        -- 3. per organization: which customers (claim its dirty keys: deleted only at commit):
        --     a list of customers (3a) or the whole organization (3b, several at once)
        FOR v_scope_org IN
            SELECT o.id FROM public.organizations o
             WHERE v_org IS NULL OR o.id = v_org
             ORDER BY o.id
        LOOP
            -- (one row per source statement and organization: its customers as an array,
            -- NULL for every customer of the organization)
            SELECT coalesce(array_agg(DISTINCT k.id), ARRAY[]::bigint[]),
                   coalesce(bool_or(k.square_customer_ids IS NULL), false),
                   coalesce(array_agg(DISTINCT marked.customer_id)
                                FILTER (WHERE marked.customer_id IS NOT NULL), ARRAY[]::text[])
              INTO v_claimed_ids, v_whole_organization, v_dirty_customers
              FROM (SELECT d.id, d.square_customer_ids FROM zorina.dirty_keys d
                     WHERE d.organization_id = v_scope_org
                       FOR UPDATE SKIP LOCKED) AS k
              LEFT JOIN LATERAL unnest(k.square_customer_ids) AS marked(customer_id) ON true;
            v_all_claimed_ids := v_all_claimed_ids || v_claimed_ids;
            v_refreshed := v_refreshed || v_scope_org;
            SELECT s.as_of INTO v_previous_as_of
              FROM zorina.refresh_state s WHERE s.organization_id = v_scope_org;

            IF v_mode IN ('full', 'org') OR v_whole_organization OR v_previous_as_of IS NULL THEN
                v_customers := NULL;  -- every customer of the organization
            ELSIF v_mode = 'recent'
                  AND zorina.whole_organization_is_cheaper(
                          v_scope_org, zorina.recently_booked_customer_count(v_scope_org, v_as_of)) THEN
                -- those who booked in recent's window alone make the whole organization cheaper
                -- (the usual case for a salon): no need to list the rest to know it
                v_customers := NULL;
            ELSE
                v_customers := zorina.customers_to_recompute(v_scope_org, v_dirty_customers,
                                                             v_previous_as_of, v_as_of, v_mode = 'recent');
                IF zorina.whole_organization_is_cheaper(v_scope_org, cardinality(v_customers)) THEN
                    v_customers := NULL;
                END IF;
            END IF;

            IF v_customers IS NULL THEN
                v_whole_organizations := v_whole_organizations || v_scope_org;
            ELSE
                v_listed_organizations := v_listed_organizations || v_scope_org;
                v_listed_customers := v_listed_customers
                    || jsonb_build_object(v_scope_org::text, to_jsonb(v_customers));
            END IF;
        END LOOP;

        -- 3a. organizations with a few customers to recompute: all their customers computed by
        --     one statement (in parallel workers when there are enough of them), the rows that
        --     changed staged in pg_temp.zorina_computed, and merged by one call (each merge
        --     plans its statements anew: ~5 ms an organization when merged one by one); then,
        --     per organization, the time-relative pass of everyone else and the segment counts
        IF cardinality(v_listed_organizations) > 0 THEN
            v_result.customers_recomputed := v_result.customers_recomputed
                + zorina.compute_organizations(v_listed_organizations, v_as_of, v_listed_customers);
            -- every listed customer with its organization, the two arrays in step
            SELECT coalesce(array_agg(listed.organization_id::uuid), ARRAY[]::uuid[]),
                   coalesce(array_agg(customer.id), ARRAY[]::text[])
              INTO v_listed_pair_organizations, v_listed_pair_customers
              FROM jsonb_each(v_listed_customers) AS listed(organization_id, customers)
             CROSS JOIN LATERAL jsonb_array_elements_text(listed.customers) AS customer(id);
            IF cardinality(v_listed_pair_customers) > 0 THEN
                -- the segments the listed customers are in before and after the merge: the
                -- segment counts follow by the difference (no recount of the organizations)
                v_segments_left_by_org := zorina.segments_of_listed_customers(
                    v_listed_pair_organizations, v_listed_pair_customers);
                v_merge := zorina.merge_computed_rows(v_listed_pair_organizations, v_listed_pair_customers);
                v_result.rows_inserted := v_result.rows_inserted + v_merge.rows_inserted;
                v_result.rows_updated  := v_result.rows_updated + v_merge.rows_updated;
                v_result.rows_deleted  := v_result.rows_deleted + v_merge.rows_deleted;
                v_merged_organizations := v_merge.changed_organization_ids;
                v_segments_joined_by_org := zorina.segments_of_listed_customers(
                    v_listed_pair_organizations, v_listed_pair_customers);
            END IF;
        END IF;
        FOREACH v_scope_org IN ARRAY v_listed_organizations LOOP
            v_customers := ARRAY(SELECT jsonb_array_elements_text(v_listed_customers -> v_scope_org::text));
            v_segments_left := ARRAY(SELECT jsonb_array_elements_text(
                                         coalesce(v_segments_left_by_org -> v_scope_org::text, '[]')));
            v_segments_joined := ARRAY(SELECT jsonb_array_elements_text(
                                           coalesce(v_segments_joined_by_org -> v_scope_org::text, '[]')));

            -- everyone else: only time moved for them
            SELECT coalesce(array_agg(m.customer_id), ARRAY[]::text[]),
                   coalesce(array_agg(m.segment_before), ARRAY[]::text[]),
                   coalesce(array_agg(m.segment_after), ARRAY[]::text[])
              INTO v_time_moved, v_time_segments_left, v_time_segments_joined
              FROM zorina.refresh_time_relative(v_scope_org, v_as_of) AS m;
            v_result.rows_updated := v_result.rows_updated + cardinality(v_time_moved);

            -- segment counts and RFM ranks move only when some row of the organization moved
            IF v_scope_org = ANY (v_merged_organizations) OR cardinality(v_time_moved) > 0 THEN
                PERFORM zorina.shift_segment_counts(v_scope_org, v_segments_left || v_time_segments_left,
                                                    v_segments_joined || v_time_segments_joined);
                v_moved_organizations := v_moved_organizations || v_scope_org;
                -- the recomputed customers (merged or not) and those time moved
                v_changed_customers := v_changed_customers
                    || jsonb_build_object(v_scope_org::text, to_jsonb(v_customers || v_time_moved));
            END IF;
        END LOOP;
        -- ... and RFM is re-ranked for all of them at once (one organization per worker)
        v_rfm_updated := v_rfm_updated + zorina.refresh_rfm(v_moved_organizations, v_changed_customers);

        -- 3b. whole organizations, a batch at a time: one statement computes a batch with one
        --     organization per parallel worker (zorina.compute_organizations), then the batch is
        --     merged (RFM scores included: the compute ranks a whole organization) and its
        --     segment counts recomputed. A batch bounds the staging table (and the merge's hash
        --     joins) at a few organizations' rows.
        FOR v_batch_start IN 1 .. coalesce(cardinality(v_whole_organizations), 0) BY v_batch_size LOOP
            v_batch := v_whole_organizations[v_batch_start : v_batch_start + v_batch_size - 1];
            v_count := zorina.compute_organizations(v_batch, v_as_of);
            v_result.customers_recomputed := v_result.customers_recomputed + v_count;
            v_merge := zorina.merge_computed_rows(v_batch, NULL);
            v_result.rows_inserted := v_result.rows_inserted + v_merge.rows_inserted;
            v_result.rows_updated  := v_result.rows_updated + v_merge.rows_updated;
            v_result.rows_deleted  := v_result.rows_deleted + v_merge.rows_deleted;
            PERFORM zorina.refresh_segment_counts(v_batch);  -- RFM came with the rows
            -- rows written: the RFM bucket boundaries the next incremental refresh starts from
            -- may have moved. Forgotten, not recomputed (~150 ms an organization of 50k, 3 s of
            -- a full refresh at 1M): the next refresh that moves the organization ranks it
            -- whole and stores them again (zorina.refresh_rfm)
            IF v_merge.rows_inserted + v_merge.rows_updated + v_merge.rows_deleted > 0
               AND to_regclass('zorina.rfm_boundaries') IS NOT NULL THEN  -- (unless 0009 was rolled back)
                DELETE FROM zorina.rfm_boundaries b WHERE b.organization_id = ANY (v_batch);
            END IF;
        END LOOP;

        -- 3c. record the as_of of every organization refreshed; release the dirty keys claimed
        INSERT INTO zorina.refresh_state AS s (organization_id, as_of, mode)
        SELECT done.organization_id, v_as_of, v_mode FROM unnest(v_refreshed) AS done(organization_id)
        ON CONFLICT (organization_id) DO UPDATE
           SET as_of = excluded.as_of, mode = excluded.mode, refreshed_at = now();
        DELETE FROM zorina.dirty_keys d WHERE d.id = ANY (v_all_claimed_ids);

        IF v_org IS NULL THEN
            -- rows of organizations that no longer exist: the stored organizations are found by
            -- skipping along the primary key (one probe per organization, not a scan of every row)
            -- (uuid has no min() aggregate: ORDER BY ... LIMIT 1 is the index probe)
            WITH RECURSIVE stored_organizations AS (
                (SELECT ca.organization_id FROM public.customer_analytics ca
                  ORDER BY ca.organization_id LIMIT 1)
                UNION ALL
                SELECT (SELECT ca.organization_id FROM public.customer_analytics ca
                         WHERE ca.organization_id > s.organization_id
                         ORDER BY ca.organization_id LIMIT 1)
                  FROM stored_organizations s
                 WHERE s.organization_id IS NOT NULL
            )
            DELETE FROM public.customer_analytics ca
             USING stored_organizations s
             WHERE ca.organization_id = s.organization_id
               AND NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = s.organization_id);
            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_result.rows_deleted := v_result.rows_deleted + v_count;
            DELETE FROM zorina.refresh_state s
             WHERE NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = s.organization_id);
            DELETE FROM zorina.segment_counts s
             WHERE NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = s.organization_id);
            -- the changes captured while an organization's rows were deleted with it: no
            -- refresh claims them (it claims per existing organization)
            DELETE FROM zorina.dirty_keys d
             WHERE NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = d.organization_id);
            IF to_regclass('zorina.rfm_boundaries') IS NOT NULL THEN  -- (unless 0009 was rolled back)
                DELETE FROM zorina.rfm_boundaries b
                 WHERE NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = b.organization_id);
            END IF;
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
    'Refreshes customer_analytics (modes: full, org, incremental, recent). One transaction, single flight per scope, one application_logs row per run.';
