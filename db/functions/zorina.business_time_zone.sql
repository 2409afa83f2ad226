/*
 * zorina.business_time_zone(settings jsonb) -> text
 * The organization's business time zone (contract section 2): settings->>'timezone' when
 * PostgreSQL knows that zone, else 'UTC' (a typo in one salon's settings must not stop every
 * refresh or view). Cheap: one conversion attempt, no scan of pg_timezone_names.
 */
CREATE OR REPLACE FUNCTION zorina.business_time_zone(settings jsonb)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
    v_zone text := nullif(btrim(settings->>'timezone'), '');
BEGIN
    IF v_zone IS NULL THEN
        RETURN 'UTC';
    END IF;
    PERFORM timestamptz '2000-01-01 00:00+00' AT TIME ZONE v_zone;
    RETURN v_zone;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN 'UTC';
END
$$;
