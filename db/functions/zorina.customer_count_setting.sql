/*
 * zorina.customer_count_setting(name, default) -> integer
 *
 * A tuning setting that counts customers (e.g. zorina.parallel_listed_min_customers), read from
 * the session, database or role (SET / ALTER DATABASE ... SET); unset or empty: the default.
 * Anything but a whole number is refused by name, value and an example, before the refresh that
 * reads it changes anything.
 */
CREATE OR REPLACE FUNCTION zorina.customer_count_setting(p_name text, p_default integer)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_value constant text := coalesce(nullif(current_setting(p_name, true), ''), p_default::text);
BEGIN
    IF v_value !~ '^\s*[0-9]{1,9}\s*$' THEN
        RAISE EXCEPTION '% must be a number of customers, got %', p_name, v_value
            USING ERRCODE = '22023', HINT = format('e.g. SET %s = %s', p_name, p_default);
    END IF;
    RETURN v_value::integer;
END
$$;
