/*
 * zorina.organization_profile(organization_id) -> (time_zone, new_days, active_days, at_risk_days)
 * What the computation needs from organizations.settings, read once per organization:
 *   - the business time zone (zorina.business_time_zone);
 *   - the segment thresholds, defaults 30/45/90 days. A threshold that is not a positive
 *     integer is an error (22023) naming the organization and the bad value.
 * No row for an organization that does not exist.
 */
CREATE OR REPLACE FUNCTION zorina.organization_profile(
    p_organization_id uuid,
    OUT time_zone text, OUT new_days integer, OUT active_days integer, OUT at_risk_days integer)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_settings jsonb;
    v_key text;
    v_value text;
    v_days integer[] := ARRAY[30, 45, 90];
    v_keys constant text[] := ARRAY['segment_new_days', 'segment_active_days', 'segment_at_risk_days'];
BEGIN
    SELECT coalesce(o.settings::jsonb, '{}'::jsonb) INTO v_settings
      FROM public.organizations o WHERE o.id = p_organization_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    time_zone := zorina.business_time_zone(v_settings);

    FOR i IN 1 .. 3 LOOP
        v_key := v_keys[i];
        v_value := v_settings->>v_key;
        CONTINUE WHEN v_value IS NULL;
        IF v_value !~ '^\s*[0-9]{1,5}\s*$' OR v_value::integer < 1 THEN
            RAISE EXCEPTION 'organization %: settings.% must be a positive number of days, got %',
                    p_organization_id, v_key, v_value
                USING ERRCODE = '22023',
                      HINT = 'fix organizations.settings or remove the key to use the default (30/45/90)';
        END IF;
        v_days[i] := v_value::integer;
    END LOOP;

    new_days := v_days[1];
    active_days := v_days[2];
    at_risk_days := v_days[3];
    RETURN NEXT;
END
$$;
