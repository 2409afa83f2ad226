/*
 * refresh_customer_analytics_for_customer(organization_id, square_customer_id, as_of DEFAULT now())
 *   -> customer_analytics_refresh_result (mode 'customer')
 *
 * Event-driven refresh of one customer (a webhook on booking.updated, payment.updated...):
 * the same computation as every other mode (customer_analytics_compute), merged the same way;
 * a customer whose profile is gone loses its row. When the customer's figures moved, the
 * organization's RFM scores are recomputed too (they are relative to every other customer).
 * It does not move the organization's refresh as_of (zorina.refresh_state): only this row is
 * as of `as_of`. Unlike the scheduled refresh it waits for a running refresh of its
 * organization instead of skipping (an event must not be lost); bound the wait with lock_timeout.
 * No application_logs row: webhooks would flood it.
 */
CREATE OR REPLACE FUNCTION public.refresh_customer_analytics_for_customer(
    organization_id uuid,
    square_customer_id text,
    as_of timestamptz DEFAULT now())
RETURNS public.customer_analytics_refresh_result
LANGUAGE plpgsql
SET search_path = pg_catalog, public
SET TimeZone = 'UTC'
SET jit = off  -- as refresh_customer_analytics: compiling its statements costs more than running them
AS $function$
#variable_conflict use_column
DECLARE
    v_org      constant uuid        := refresh_customer_analytics_for_customer.organization_id;
    v_customer constant text        := refresh_customer_analytics_for_customer.square_customer_id;
    v_as_of    constant timestamptz := refresh_customer_analytics_for_customer.as_of;
    v_started  timestamptz := clock_timestamp();
    v_result   public.customer_analytics_refresh_result;
    v_merge    record;
    v_segment_before text;
BEGIN
    IF v_org IS NULL OR v_customer IS NULL THEN
        RAISE EXCEPTION 'organization_id and square_customer_id are required'
            USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.organizations o WHERE o.id = v_org) THEN
        RAISE EXCEPTION 'organization % does not exist', v_org
            USING ERRCODE = '22023', HINT = 'SELECT id, name FROM organizations lists them';
    END IF;
    IF v_as_of IS NULL OR v_as_of > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'as_of % is NULL or in the future', v_as_of
            USING ERRCODE = '22023', HINT = 'omit as_of to refresh as of now()';
    END IF;

    -- same lock order as refresh_customer_analytics (global shared, then organization), but waiting
    PERFORM pg_advisory_xact_lock_shared(23051, 0);
    PERFORM pg_advisory_xact_lock(23051, hashtext(v_org::text));

    PERFORM zorina.prepare_computed_rows();
    INSERT INTO pg_temp.zorina_computed
    SELECT * FROM public.customer_analytics_compute(v_org, ARRAY[v_customer], v_as_of);

    SELECT ca.customer_segment INTO v_segment_before FROM public.customer_analytics ca
     WHERE ca.organization_id = v_org AND ca.square_customer_id = v_customer;
    v_merge := zorina.merge_computed_rows(ARRAY[v_org], ARRAY[v_customer]);
    IF v_merge.rows_inserted + v_merge.rows_updated + v_merge.rows_deleted > 0 THEN
        PERFORM zorina.refresh_rfm(ARRAY[v_org], jsonb_build_object(v_org::text, jsonb_build_array(v_customer)));
        -- one customer moved: the segment counts follow by one (no recount of the organization)
        PERFORM zorina.shift_segment_counts(v_org, ARRAY[v_segment_before],
                                            ARRAY[(SELECT ca.customer_segment FROM public.customer_analytics ca
                                                    WHERE ca.organization_id = v_org
                                                      AND ca.square_customer_id = v_customer)]);
    END IF;
    DROP TABLE pg_temp.zorina_computed;

    v_result := ROW('customer', v_org, v_as_of,
                    (SELECT count(*) FROM public.square_existing_clients c
                      WHERE c.organization_id = v_org AND c.square_customer_id = v_customer),
                    v_merge.rows_inserted, v_merge.rows_updated, v_merge.rows_deleted,
                    round(extract(epoch FROM clock_timestamp() - v_started) * 1000), false);
    RETURN v_result;
END
$function$;

COMMENT ON FUNCTION public.refresh_customer_analytics_for_customer(uuid, text, timestamptz) IS
    'Recomputes one customer''s row (and the organization''s RFM scores when it moved); for event-driven refresh.';
