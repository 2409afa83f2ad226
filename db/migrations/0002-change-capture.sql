-- Change capture for incremental refresh: statement-level triggers on the source tables mark the
-- (organization_id, square_customer_id) keys a statement touched, old and new, in zorina.dirty_keys.
-- One INSERT per statement (transition tables), never one per row.
-- depends: 0001-customer-analytics

-- An append-only queue: a refresh deletes exactly the ids it claimed, so a change committed
-- while it runs gets its own row and is never lost. square_customer_id NULL = every customer of
-- the organization (its settings changed).
CREATE TABLE zorina.dirty_keys (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id     uuid        NOT NULL,
    square_customer_id  text,
    marked_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dirty_keys_organization_idx ON zorina.dirty_keys (organization_id);
COMMENT ON TABLE zorina.dirty_keys IS 'customers whose source rows changed since the refresh that covered them; filled by zorina_capture_* triggers';

-- referral links run between customers: when a profile changes, the customers it referred (by
-- stored link) or whose referral_source matches its codes are recomputed too
CREATE INDEX customer_analytics_referred_by_idx
    ON public.customer_analytics (organization_id, referred_by_customer_id)
    WHERE referred_by_customer_id IS NOT NULL;
CREATE INDEX customer_analytics_referral_source_idx
    ON public.customer_analytics (organization_id, lower(referral_source))
    WHERE referral_source IS NOT NULL;

-- zorina.next_day_boundary(first_booking_at, last_booking_at, tenure_days, days_since_last_visit):
-- the first instant (epoch seconds) at which a stored row's time-relative columns can change -
-- the next whole day after its last visit or after its first visit; segment and is_overdue are
-- functions of those day counts. The time-relative pass reads only rows whose boundary has
-- passed, through the expression index below. It lives here, not in db/functions: an indexed
-- function is schema history (changing it means a new migration and a REINDEX).
CREATE FUNCTION zorina.next_day_boundary(
    first_booking_at timestamptz, last_booking_at timestamptz, tenure_days integer, days_since_last_visit integer)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT least(extract(epoch FROM last_booking_at)::double precision + (days_since_last_visit + 1) * 86400.0,
                 extract(epoch FROM first_booking_at)::double precision + (tenure_days + 1) * 86400.0)
$fn$;
CREATE INDEX customer_analytics_next_day_boundary_idx
    ON public.customer_analytics (organization_id,
        zorina.next_day_boundary(first_booking_at, last_booking_at, tenure_days, days_since_last_visit))
    WHERE first_booking_at IS NOT NULL;

CREATE FUNCTION zorina.capture_changed_keys()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
/* AFTER ... FOR EACH STATEMENT on a source table; TG_ARGV[0] names the column holding the
   square_customer_id. Marks every customer of old_rows and new_rows (a row moved between
   customers marks both). Static statements, one per column name and operation, so PL/pgSQL
   keeps their plans: dynamic SQL cost a parse and plan per statement (+20% on 1,000-row inserts). */
BEGIN
    IF TG_ARGV[0] = 'customer_id' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT DISTINCT organization_id, customer_id FROM new_rows WHERE customer_id IS NOT NULL;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT DISTINCT organization_id, customer_id FROM old_rows WHERE customer_id IS NOT NULL;
        ELSE
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT organization_id, customer_id FROM old_rows WHERE customer_id IS NOT NULL
            UNION SELECT organization_id, customer_id FROM new_rows WHERE customer_id IS NOT NULL;
        END IF;
    ELSIF TG_ARGV[0] = 'square_customer_id' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT DISTINCT organization_id, square_customer_id FROM new_rows;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT DISTINCT organization_id, square_customer_id FROM old_rows;
        ELSE
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT organization_id, square_customer_id FROM old_rows
            UNION SELECT organization_id, square_customer_id FROM new_rows;
        END IF;
    ELSIF TG_ARGV[0] = 'referrer_customer_id' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT DISTINCT organization_id, referrer_customer_id FROM new_rows WHERE referrer_customer_id IS NOT NULL;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT DISTINCT organization_id, referrer_customer_id FROM old_rows WHERE referrer_customer_id IS NOT NULL;
        ELSE
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
            SELECT organization_id, referrer_customer_id FROM old_rows WHERE referrer_customer_id IS NOT NULL
            UNION SELECT organization_id, referrer_customer_id FROM new_rows WHERE referrer_customer_id IS NOT NULL;
        END IF;
    ELSE
        RAISE EXCEPTION 'zorina.capture_changed_keys: unknown customer column %', TG_ARGV[0]
            USING ERRCODE = '22023', HINT = 'customer_id, square_customer_id or referrer_customer_id';
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION zorina.capture_changed_organizations()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
/* AFTER UPDATE ON organizations: a changed settings (time zone, segment thresholds) changes
   every customer of the organization. */
BEGIN
    INSERT INTO zorina.dirty_keys (organization_id, square_customer_id)
    SELECT n.id, NULL
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE o.settings::jsonb IS DISTINCT FROM n.settings::jsonb;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    v_source record;
BEGIN
    FOR v_source IN
        SELECT * FROM (VALUES ('bookings', 'customer_id'), ('payments', 'customer_id'),
                              ('square_existing_clients', 'square_customer_id'),
                              ('referral_profiles', 'square_customer_id'),
                              ('referral_rewards', 'referrer_customer_id')) AS s(table_name, customer_column)
    LOOP
        EXECUTE format('CREATE TRIGGER zorina_capture_insert AFTER INSERT ON public.%I
                        REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION zorina.capture_changed_keys(%L)',
                       v_source.table_name, v_source.customer_column);
        EXECUTE format('CREATE TRIGGER zorina_capture_update AFTER UPDATE ON public.%I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION zorina.capture_changed_keys(%L)',
                       v_source.table_name, v_source.customer_column);
        EXECUTE format('CREATE TRIGGER zorina_capture_delete AFTER DELETE ON public.%I
                        REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION zorina.capture_changed_keys(%L)',
                       v_source.table_name, v_source.customer_column);
    END LOOP;
END
$$;

CREATE TRIGGER zorina_capture_update AFTER UPDATE ON public.organizations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zorina.capture_changed_organizations();
