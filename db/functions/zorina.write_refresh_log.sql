/*
 * zorina.write_refresh_log(status, organization_id, payload, autonomous) -> boolean
 *
 * Writes the application_logs row of one refresh run (contract section 6). Values go in as
 * literals so they cast to whatever production uses (status is an enum there, payload json or
 * jsonb, created_at with or without time zone).
 *
 * A failed refresh re-raises its error, which rolls back everything it wrote - its log row
 * too. So with autonomous = true the row is written over a dblink loopback connection, in its
 * own transaction, and survives. The loopback uses the server's first socket directory as the
 * current user; set `zorina.log_conninfo` (ALTER DATABASE ... SET) where that needs a password.
 * Without dblink, or when the loopback fails, it warns and writes in the current transaction.
 * Returns true when the row was written autonomously.
 */
CREATE OR REPLACE FUNCTION zorina.write_refresh_log(
    p_status text, p_organization_id uuid, p_payload jsonb, p_autonomous boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_insert   text;
    v_dblink   name;
    v_conninfo text;
BEGIN
    v_insert := format(
        'INSERT INTO public.application_logs
             (id, organization_id, log_type, log_id, status, payload, created_at, updated_at)
         VALUES (%L, %L, %L, %L, %L, %L, %L, %L)',
        gen_random_uuid()::text, p_organization_id, 'customer_analytics_refresh',
        gen_random_uuid()::text, p_status, p_payload::text,
        to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));

    IF p_autonomous THEN
        SELECT n.nspname INTO v_dblink
          FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'dblink';
        IF v_dblink IS NULL THEN
            RAISE WARNING 'zorina: dblink is not installed, the failure log row is written in the failing transaction and will be rolled back with it'
                USING HINT = 'CREATE EXTENSION dblink (contrib) keeps failure logs';
        ELSE
            v_conninfo := coalesce(nullif(current_setting('zorina.log_conninfo', true), ''),
                format('dbname=%s user=%s port=%s host=%s',
                       quote_literal(current_database()), quote_literal(current_user),
                       current_setting('port'),
                       quote_literal(coalesce(nullif(btrim(split_part(current_setting('unix_socket_directories'), ',', 1)), ''),
                                              'localhost'))));
            BEGIN
                EXECUTE format('SELECT %I.dblink_exec(%L, %L)', v_dblink, v_conninfo, v_insert);
                RETURN true;
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'zorina: could not write the failure log row in its own transaction: %', SQLERRM
                    USING HINT = 'set zorina.log_conninfo to a conninfo dblink can use';
            END;
        END IF;
    END IF;

    EXECUTE v_insert;
    RETURN false;
END
$$;
