/*
 * zorina.compute_organizations(organization_ids, as_of) -> customers computed
 *
 * Fills pg_temp.zorina_computed (the staging table zorina.merge_computed_rows reads) with the
 * customers of the given organizations whose computed row at as_of differs from the stored one
 * (or has none): one zorina.compute_customer_rows call per organization, all in one statement
 * that runs them in parallel workers (zorina.collect_in_parallel). The comparison with the
 * stored row (60-odd columns) happens in the workers too, so the leader writes and merges only
 * what changed - on a nightly full refresh, usually a small part.
 * The organizations' settings are read here, in the leader (zorina.organization_profile
 * validates the time zone with an exception block, which a parallel worker may not run), and
 * passed in. Returns how many customers were computed (every profile of the organizations).
 */
CREATE OR REPLACE FUNCTION zorina.compute_organizations(
    p_organization_ids uuid[], p_as_of timestamptz)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_calls text[] := ARRAY[]::text[];
    v_profile record;
    v_org uuid;
    v_stored text;
    v_fresh text;
BEGIN
    SELECT string_agg('t.' || quote_ident(name), ', '), string_agg('c.' || quote_ident(name), ', ')
      INTO v_stored, v_fresh
      FROM unnest(zorina.metric_columns(true)) AS name;

    FOREACH v_org IN ARRAY p_organization_ids LOOP
        SELECT * INTO v_profile FROM zorina.organization_profile(v_org);
        CONTINUE WHEN NOT FOUND;  -- deleted meanwhile: it has no customers
        v_calls := v_calls || format(
            'SELECT c.* FROM zorina.compute_customer_rows(%L::uuid, NULL, %L::timestamptz, %L, %s, %s, %s) AS c
              WHERE NOT EXISTS (SELECT 1 FROM public.customer_analytics t
                                 WHERE t.organization_id = %1$L::uuid
                                   AND t.square_customer_id = c.square_customer_id
                                   AND (%7$s) IS NOT DISTINCT FROM (%8$s))',
            v_org, p_as_of, v_profile.time_zone, v_profile.new_days, v_profile.active_days,
            v_profile.at_risk_days, v_stored, v_fresh);
    END LOOP;

    IF cardinality(v_calls) = 0 THEN
        PERFORM zorina.prepare_computed_rows();  -- an empty staging table of the right shape
    ELSE
        PERFORM zorina.collect_in_parallel('zorina_computed', v_calls);
    END IF;
    -- one computed row per profile (the staging table holds only those that changed)
    RETURN (SELECT count(*) FROM public.square_existing_clients s
             WHERE s.organization_id = ANY (p_organization_ids));
END
$$;
