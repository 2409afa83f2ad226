/*
 * customer_analytics_compute(organization_id, customer_ids DEFAULT NULL, as_of DEFAULT now())
 *   -> SETOF customer_analytics
 *
 * The customer_analytics rows of an organization (or of the listed customers) exactly as a full
 * refresh at as_of would store them, without writing anything: for checks from psql and for the
 * verification suite. Reads the organization's settings (time zone, segment thresholds) and
 * hands over to zorina.compute_customer_rows, where every formula lives. Bookkeeping columns
 * are NULL, and so are RFM scores when customer_ids are listed (RFM ranks a whole organization;
 * see there). No rows for an organization that does not exist.
 */
CREATE OR REPLACE FUNCTION public.customer_analytics_compute(
    organization_id uuid,
    customer_ids text[] DEFAULT NULL,
    as_of timestamptz DEFAULT now())
RETURNS SETOF public.customer_analytics
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
SET jit = off  -- as every entry point of the pack: compiling the compute's call costs more than it saves
AS $function$
DECLARE
    v_profile record;
BEGIN
    SELECT * INTO v_profile FROM zorina.organization_profile(customer_analytics_compute.organization_id);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT * FROM zorina.compute_customer_rows(customer_analytics_compute.organization_id,
                                               customer_analytics_compute.customer_ids,
                                               customer_analytics_compute.as_of,
                                               v_profile.time_zone, v_profile.new_days,
                                               v_profile.active_days, v_profile.at_risk_days);
END
$function$;

COMMENT ON FUNCTION public.customer_analytics_compute(uuid, text[], timestamptz) IS
    'Computes customer_analytics rows (bookkeeping NULL; RFM only for a whole organization) for an organization or some of its customers at as_of; writes nothing. The formulas live in zorina.compute_customer_rows.';
