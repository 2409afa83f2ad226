-- Change capture: one zorina.dirty_keys row per statement and organization, the statement's
-- customers as an array, instead of one row per customer. Inserting the queue rows was most of
-- what the triggers cost a batched source write (measured at S, 100 statements of 1,000 booking
-- inserts, each for different customers: +0.25 s of the +0.37 s the triggers added to 1.84 s;
-- the transition table and the trigger call +0.05 s). The queue keeps its meaning: rows are
-- claimed FOR UPDATE SKIP LOCKED and deleted by id when the refresh that claimed them commits;
-- square_customer_ids NULL = every customer of the organization (its settings changed).
-- Keys marked before this migration are carried over, one array of one customer each.
-- depends: 0005-rfm-rank-indexes

ALTER TABLE zorina.dirty_keys ADD COLUMN square_customer_ids text[];
UPDATE zorina.dirty_keys SET square_customer_ids = ARRAY[square_customer_id]
 WHERE square_customer_id IS NOT NULL;
ALTER TABLE zorina.dirty_keys DROP COLUMN square_customer_id;
COMMENT ON COLUMN zorina.dirty_keys.square_customer_ids IS
    'the customers one statement touched in the organization; NULL = every customer of it';

CREATE OR REPLACE FUNCTION zorina.capture_changed_keys()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
/* AFTER ... FOR EACH STATEMENT on a source table; TG_ARGV[0] names the column holding the
   square_customer_id. Marks every customer of old_rows and new_rows (a row moved between
   customers marks both): one dirty_keys row per organization the statement touched, its
   customers as an array. Static statements, one per column name and operation, so PL/pgSQL
   keeps their plans: dynamic SQL cost a parse and plan per statement (+20% on 1,000-row inserts). */
BEGIN
    IF TG_ARGV[0] = 'customer_id' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT customer_id)
              FROM new_rows WHERE customer_id IS NOT NULL GROUP BY organization_id;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT customer_id)
              FROM old_rows WHERE customer_id IS NOT NULL GROUP BY organization_id;
        ELSE
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT customer_id)
              FROM (SELECT organization_id, customer_id FROM old_rows WHERE customer_id IS NOT NULL
                    UNION ALL
                    SELECT organization_id, customer_id FROM new_rows WHERE customer_id IS NOT NULL) AS touched
             GROUP BY organization_id;
        END IF;
    ELSIF TG_ARGV[0] = 'square_customer_id' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT square_customer_id)
              FROM new_rows GROUP BY organization_id;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT square_customer_id)
              FROM old_rows GROUP BY organization_id;
        ELSE
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT customer_id)
              FROM (SELECT organization_id, square_customer_id AS customer_id FROM old_rows
                    UNION ALL
                    SELECT organization_id, square_customer_id FROM new_rows) AS touched
             GROUP BY organization_id;
        END IF;
    ELSIF TG_ARGV[0] = 'referrer_customer_id' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT referrer_customer_id)
              FROM new_rows WHERE referrer_customer_id IS NOT NULL GROUP BY organization_id;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT referrer_customer_id)
              FROM old_rows WHERE referrer_customer_id IS NOT NULL GROUP BY organization_id;
        ELSE
            INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
            SELECT organization_id, array_agg(DISTINCT customer_id)
              FROM (SELECT organization_id, referrer_customer_id AS customer_id
                      FROM old_rows WHERE referrer_customer_id IS NOT NULL
                    UNION ALL
                    SELECT organization_id, referrer_customer_id
                      FROM new_rows WHERE referrer_customer_id IS NOT NULL) AS touched
             GROUP BY organization_id;
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
   every customer of the organization (square_customer_ids NULL). */
BEGIN
    INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
    SELECT n.id, NULL
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE o.settings::jsonb IS DISTINCT FROM n.settings::jsonb;
    RETURN NULL;
END
$$;
