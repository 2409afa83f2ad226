/*
 * zorina.prepare_computed_rows() -> void
 * An empty pg_temp.zorina_computed, the staging table between customer_analytics_compute
 * and zorina.merge_computed_rows: the table's shape without its constraints (compute leaves
 * bookkeeping columns NULL), dropped at commit. Within one transaction the table is emptied, not
 * created again: an incremental refresh stages each organization's few customers in turn, and
 * creating a temporary table (catalog rows, a new file) cost more than the rows (~1.2 ms each).
 */
CREATE OR REPLACE FUNCTION zorina.prepare_computed_rows()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF to_regclass('pg_temp.zorina_computed') IS NOT NULL THEN
        DELETE FROM pg_temp.zorina_computed;
    ELSE
        CREATE TEMP TABLE zorina_computed ON COMMIT DROP AS
        SELECT * FROM public.customer_analytics WITH NO DATA;
    END IF;
END
$$;
