/*
 * zorina.compute_organizations(organization_ids, as_of, customers DEFAULT NULL)
 *   -> customers computed
 *
 * Fills pg_temp.zorina_computed (the staging table zorina.merge_computed_rows reads) with the
 * customers of the given organizations whose computed row at as_of differs from the stored one
 * (or has none): one zorina.compute_customer_rows call per organization (for a short list of
 * customers its copy zorina.compute_listed_customer_rows, planned once), all in one statement
 * that runs them in parallel workers (zorina.collect_in_parallel). The comparison with the
 * stored row (60-odd columns) happens in the workers too, so the leader writes and merges only
 * what changed - on a nightly full refresh, usually a small part.
 * customers, {"<organization id>": ["<square_customer_id>", ...]}, limits each organization to
 * the listed customers (an incremental refresh; an organization with an empty list is not
 * computed); their RFM columns stay out of the comparison (the compute leaves them NULL for
 * listed customers, zorina.refresh_rfm ranks the stored rows afterwards). A few customers are
 * computed by the leader alone, one organization after another: below 2,000 listed customers in
 * all, starting the workers (each plans and compiles the compute cold) costs more than they
 * save (measured at S, 1% of 100k customers changed: 170-200 ms in the leader, 230-250 ms with
 * workers; at L, 1% of 1M, 2.6-4.2 s in the leader, 2.1 s with two workers). The setting
 * zorina.parallel_listed_min_customers changes that bound (0: always in workers), and
 * zorina.one_plan_max_listed_customers the list size up to which an organization's customers are
 * computed with the plan made once per session (0: never). A bad value of either gives 22023.
 * The organizations' settings are read here, in the leader (zorina.organization_profile
 * validates the time zone with an exception block, which a parallel worker may not run), and
 * passed in. Returns how many customers were computed (every profile of the organizations, or
 * of the listed customers).
 */
-- the signature it had before (re-runnable: gone after the first install)
DROP FUNCTION IF EXISTS zorina.compute_organizations(uuid[], timestamptz);

CREATE OR REPLACE FUNCTION zorina.compute_organizations(
    p_organization_ids uuid[], p_as_of timestamptz, p_customers jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public
-- its statements are planned for the call's list: a full refresh calls it with none (NULL), an
-- incremental one with the customers of each organization. A cached generic plan, which a
-- session that ran a few full refreshes settles on, filters every profile of the organization
-- by `= ANY (list)` one element at a time (a list that is a parameter is not hashed): ~0.1 s
-- per organization at 50k customers and 460 listed, a 1% incremental at L 6 s -> 21 s
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_min_customers_for_workers constant integer :=
        zorina.customer_count_setting('zorina.parallel_listed_min_customers', 2000);
    -- a plan made once per session serves lists up to this size (see the call below)
    v_max_customers_for_one_plan constant integer :=
        zorina.customer_count_setting('zorina.one_plan_max_listed_customers', 1000);
    v_calls text[] := ARRAY[]::text[];
    v_profile record;
    v_org uuid;
    v_listed text[];
    v_listed_total bigint := 0;
    v_computed bigint := 0;
    v_stored text;
    v_fresh text;
    v_workers_per_gather text;
BEGIN
    SELECT string_agg('t.' || quote_ident(name), ', '), string_agg('c.' || quote_ident(name), ', ')
      INTO v_stored, v_fresh
      FROM unnest(zorina.metric_columns(p_customers IS NULL)) AS name;

    FOREACH v_org IN ARRAY p_organization_ids LOOP
        IF p_customers IS NOT NULL THEN
            v_listed := ARRAY(SELECT jsonb_array_elements_text(p_customers -> v_org::text));
            CONTINUE WHEN cardinality(v_listed) = 0;
            v_listed_total := v_listed_total + cardinality(v_listed);
        END IF;
        SELECT * INTO v_profile FROM zorina.organization_profile(v_org);
        CONTINUE WHEN NOT FOUND;  -- deleted meanwhile: it has no customers
        -- the list travels as a literal: a parallel worker cannot read the caller's variables.
        -- It limits the stored rows compared too: the planner expects the compute's ROWS (a
        -- whole organization) and reads the stored rows by hash join (for a few customers, all
        -- 10k stored rows of an organization at S, ~30 ms each, instead of ~100 probes)
        -- up to v_max_customers_for_one_plan listed customers: the definition's copy that plans
        -- once per session (zorina.compute_listed_customer_rows); more, or a whole organization:
        -- a plan made for the actual list (measured per organization at L, ~530 customers: 157 vs
        -- 168 ms; ~5,000: 1.5 vs 1.0-1.1 s, where the plan made for the list wins)
        v_calls := v_calls || format(
            'SELECT c.* FROM zorina.%10$s(%1$L::uuid, %2$L::text[], %3$L::timestamptz, %4$L, %5$s, %6$s, %7$s) AS c
              WHERE NOT EXISTS (SELECT 1 FROM public.customer_analytics t
                                 WHERE t.organization_id = %1$L::uuid
                                   AND (%2$L::text[] IS NULL OR t.square_customer_id = ANY (%2$L::text[]))
                                   AND t.square_customer_id = c.square_customer_id
                                   AND (%8$s) IS NOT DISTINCT FROM (%9$s))',
            v_org, v_listed, p_as_of, v_profile.time_zone, v_profile.new_days, v_profile.active_days,
            v_profile.at_risk_days, v_stored, v_fresh,
            CASE WHEN cardinality(v_listed) <= v_max_customers_for_one_plan
                 THEN 'compute_listed_customer_rows' ELSE 'compute_customer_rows' END);
        -- one computed row per profile (the staging table holds only those that changed)
        v_computed := v_computed + (SELECT count(*) FROM public.square_existing_clients s
                                     WHERE s.organization_id = v_org
                                       AND (v_listed IS NULL OR s.square_customer_id = ANY (v_listed)));
    END LOOP;

    IF cardinality(v_calls) = 0 THEN
        PERFORM zorina.prepare_computed_rows();  -- an empty staging table of the right shape
    ELSIF p_customers IS NOT NULL AND v_listed_total < v_min_customers_for_workers THEN
        v_workers_per_gather := current_setting('max_parallel_workers_per_gather');
        PERFORM set_config('max_parallel_workers_per_gather', '0', true);
        PERFORM zorina.collect_in_parallel('zorina_computed', v_calls);
        PERFORM set_config('max_parallel_workers_per_gather', v_workers_per_gather, true);
    ELSE
        PERFORM zorina.collect_in_parallel('zorina_computed', v_calls);
    END IF;
    RETURN v_computed;
END
$$;
