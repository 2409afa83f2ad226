/*
 * zorina.compute_listed_customer_rows(organization_id, customer_ids, as_of,
 *                                     time_zone, new_days, active_days, at_risk_days)
 *   -> SETOF customer_analytics
 *
 * zorina.compute_customer_rows for listed customers only (customer_ids not NULL), with one
 * plan per session instead of one per call. It is not written here: this file derives it from
 * the definition's source, so every formula still lives in one place. Two changes:
 *   - each "v_ids IS NULL OR <column> = ANY (v_ids)" filter becomes "<column> = ANY (v_ids)":
 *     with the OR, a plan made without the values (a generic plan) cannot probe the
 *     (organization_id, customer) indexes and would read the whole organization;
 *   - plan_cache_mode force_generic_plan instead of force_custom_plan: the plan is made once
 *     per session (the statement is ~300 lines; planning it took 3-9 ms of each organization's
 *     15-25 ms in an incremental run with ~100 customers an organization).
 * A whole organization keeps zorina.compute_customer_rows: its plan is made for the actual
 * organization (scans, not probes). Re-run after the definition changes (zorina-db apply runs
 * the function files in name order: this one comes after it).
 */
DO $derive$
DECLARE
    v_definition text := pg_get_functiondef(
        'zorina.compute_customer_rows(uuid, text[], timestamptz, text, integer, integer, integer)'::regprocedure);
    v_listed text;
BEGIN
    v_listed := regexp_replace(v_definition,
                               '\(v_ids IS NULL OR ([a-z_]+\.[a-z_]+ = ANY \(v_ids\))\)', '\1', 'g');
    v_listed := replace(v_listed, 'FUNCTION zorina.compute_customer_rows(',
                                  'FUNCTION zorina.compute_listed_customer_rows(');
    v_listed := replace(v_listed, 'compute_customer_rows.', 'compute_listed_customer_rows.');
    v_listed := replace(v_listed, $$plan_cache_mode TO 'force_custom_plan'$$,
                                  $$plan_cache_mode TO 'force_generic_plan'$$);
    -- the derivation must have found what it rewrites; a changed definition stops the install
    IF v_listed ~ 'v_ids IS NULL OR' OR v_listed !~ 'force_generic_plan'
       OR v_listed ~ 'compute_customer_rows' THEN
        RAISE EXCEPTION 'zorina.compute_customer_rows no longer has the shape zorina.compute_listed_customer_rows is derived from'
            USING ERRCODE = '55000',
                  HINT = 'update db/functions/zorina.compute_listed_customer_rows.sql with the definition';
    END IF;
    EXECUTE v_listed;
END
$derive$;

COMMENT ON FUNCTION zorina.compute_listed_customer_rows(uuid, text[], timestamptz, text, integer, integer, integer) IS
    'zorina.compute_customer_rows for listed customers, derived from its source at install: one plan per session (generic) instead of one per call.';
