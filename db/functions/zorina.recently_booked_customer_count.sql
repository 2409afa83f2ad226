/*
 * zorina.recently_booked_customer_count(organization_id, as_of) -> bigint
 *
 * How many customers have a booking (any status) that started in the 90 days up to as_of: one
 * of the groups `recent` recomputes (zorina.customers_to_recompute, same window and test), read
 * through the (organization_id, start_at) index alone. refresh_customer_analytics asks it first
 * in `recent` mode: when this group alone makes recomputing the whole organization cheaper, the
 * full list (which scans every booking and payment of the organization for recent writes) is
 * not needed to decide that.
 * `AT TIME ZONE 'UTC'` on the instants, not a cast on the column: works for either column type
 * (zone-less = UTC, TimeZone is UTC here) and keeps the index usable.
 */
CREATE OR REPLACE FUNCTION zorina.recently_booked_customer_count(p_organization_id uuid, p_as_of timestamptz)
RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public
SET TimeZone = 'UTC'
AS $$
    SELECT count(DISTINCT b.customer_id)
      FROM public.bookings b
     WHERE b.organization_id = p_organization_id
       AND b.start_at > (p_as_of - interval '90 days') AT TIME ZONE 'UTC'
       AND b.start_at <= p_as_of AT TIME ZONE 'UTC'
       AND b.customer_id IS NOT NULL
$$;
