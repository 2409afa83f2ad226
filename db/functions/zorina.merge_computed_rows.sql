/*
 * zorina.merge_computed_rows(organization_id, customer_ids) -> rows_inserted, rows_updated, rows_deleted
 *
 * Brings public.customer_analytics in line with the rows in pg_temp.zorina_computed (filled by
 * customer_analytics_compute) for one organization, or only the listed customers of it:
 *   - updates a row only when one of its metric values differs (IS DISTINCT FROM), so an
 *     unchanged customer costs no write and keeps its updated_at;
 *   - inserts rows for new profiles;
 *   - deletes rows whose profile no longer exists in square_existing_clients.
 * RFM columns are left alone (zorina.refresh_rfm owns them), as are created_at / updated_at.
 * The column list is read from the catalog, so a column added to the table by a migration is
 * merged without touching this function.
 */
CREATE OR REPLACE FUNCTION zorina.merge_computed_rows(
    p_organization_id uuid, p_customer_ids text[],
    OUT rows_inserted bigint, OUT rows_updated bigint, OUT rows_deleted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_columns text;
    v_stored  text;
    v_fresh   text;
BEGIN
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg('t.' || quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg('c.' || quote_ident(a.attname), ', ' ORDER BY a.attnum)
      INTO v_columns, v_stored, v_fresh
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = 'public.customer_analytics'::regclass
       AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname NOT IN ('organization_id', 'square_customer_id', 'created_at', 'updated_at')
       AND a.attname NOT LIKE 'rfm\_%';

    EXECUTE format(
        'UPDATE public.customer_analytics t
            SET (%1$s) = ROW(%3$s), updated_at = now()
           FROM pg_temp.zorina_computed c
          WHERE t.organization_id = c.organization_id
            AND t.square_customer_id = c.square_customer_id
            AND (%2$s) IS DISTINCT FROM (%3$s)',
        v_columns, v_stored, v_fresh);
    GET DIAGNOSTICS rows_updated = ROW_COUNT;

    EXECUTE format(
        'INSERT INTO public.customer_analytics (organization_id, square_customer_id, %1$s)
         SELECT c.organization_id, c.square_customer_id, %2$s
           FROM pg_temp.zorina_computed c
          WHERE NOT EXISTS (SELECT 1 FROM public.customer_analytics t
                             WHERE t.organization_id = c.organization_id
                               AND t.square_customer_id = c.square_customer_id)',
        v_columns, v_fresh);
    GET DIAGNOSTICS rows_inserted = ROW_COUNT;

    DELETE FROM public.customer_analytics t
     WHERE t.organization_id = p_organization_id
       AND (p_customer_ids IS NULL OR t.square_customer_id = ANY (p_customer_ids))
       AND NOT EXISTS (SELECT 1 FROM public.square_existing_clients s
                        WHERE s.organization_id = t.organization_id
                          AND s.square_customer_id = t.square_customer_id);
    GET DIAGNOSTICS rows_deleted = ROW_COUNT;
END
$$;
