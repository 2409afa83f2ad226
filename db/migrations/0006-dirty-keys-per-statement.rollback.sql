-- Undo 0006: one dirty_keys row per customer again (pending arrays unnested, NULL kept as the
-- whole-organization mark) and the triggers' functions as 0002 created them.
ALTER TABLE zorina.dirty_keys ADD COLUMN square_customer_id text;
INSERT INTO zorina.dirty_keys (organization_id, square_customer_id, marked_at)
SELECT d.organization_id, customer.id, d.marked_at
  FROM zorina.dirty_keys d CROSS JOIN LATERAL unnest(d.square_customer_ids) AS customer(id)
 WHERE d.square_customer_ids IS NOT NULL;
DELETE FROM zorina.dirty_keys WHERE square_customer_ids IS NOT NULL;
ALTER TABLE zorina.dirty_keys DROP COLUMN square_customer_ids;

CREATE OR REPLACE FUNCTION zorina.capture_changed_keys()
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

CREATE OR REPLACE FUNCTION zorina.capture_changed_organizations()
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

