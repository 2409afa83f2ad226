/*
 * zorina.prepare_computed_rows() -> void
 * (Re)creates pg_temp.zorina_computed, the staging table between customer_analytics_compute
 * and zorina.merge_computed_rows: the table's shape without its constraints (compute leaves
 * bookkeeping columns NULL), dropped at commit.
 */
CREATE OR REPLACE FUNCTION zorina.prepare_computed_rows()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF to_regclass('pg_temp.zorina_computed') IS NOT NULL THEN
        DROP TABLE pg_temp.zorina_computed;
    END IF;
    CREATE TEMP TABLE zorina_computed ON COMMIT DROP AS
    SELECT * FROM public.customer_analytics WITH NO DATA;
END
$$;
