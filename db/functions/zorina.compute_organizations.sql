/*
 * zorina.compute_organizations(organization_ids, as_of) -> rows computed
 *
 * Fills pg_temp.zorina_computed (the staging table zorina.merge_computed_rows reads) with every
 * customer of the given organizations at as_of: one zorina.compute_customer_rows call per
 * organization, all in one statement that runs them in parallel workers
 * (zorina.collect_in_parallel). The organizations' settings are read here, in the leader
 * (zorina.organization_profile validates the time zone with an exception block, which a
 * parallel worker may not run), and passed in.
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
BEGIN
    FOREACH v_org IN ARRAY p_organization_ids LOOP
        SELECT * INTO v_profile FROM zorina.organization_profile(v_org);
        CONTINUE WHEN NOT FOUND;  -- deleted meanwhile: it has no customers
        v_calls := v_calls || format(
            'SELECT * FROM zorina.compute_customer_rows(%L::uuid, NULL, %L::timestamptz, %L, %s, %s, %s)',
            v_org, p_as_of, v_profile.time_zone, v_profile.new_days, v_profile.active_days,
            v_profile.at_risk_days);
    END LOOP;

    IF cardinality(v_calls) = 0 THEN
        PERFORM zorina.prepare_computed_rows();  -- an empty staging table of the right shape
        RETURN 0;
    END IF;
    RETURN zorina.collect_in_parallel('zorina_computed', v_calls);
END
$$;
