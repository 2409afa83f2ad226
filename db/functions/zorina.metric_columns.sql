/*
 * zorina.metric_columns(with_rfm) -> text[]
 *
 * The columns of customer_analytics a refresh computes and compares, in table order, read from
 * the catalog (so a column a migration adds is merged without touching the functions that use
 * this): every column but the key (organization_id, square_customer_id) and the bookkeeping
 * (created_at, updated_at); the rfm_* columns only when with_rfm (a whole organization is
 * computed: the compute ranks RFM; for listed customers zorina.refresh_rfm owns them).
 */
CREATE OR REPLACE FUNCTION zorina.metric_columns(p_with_rfm boolean)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT array_agg(a.attname::text ORDER BY a.attnum)
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = 'public.customer_analytics'::regclass
       AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname NOT IN ('organization_id', 'square_customer_id', 'created_at', 'updated_at')
       AND (p_with_rfm OR a.attname NOT LIKE 'rfm\_%')
$$;
