/*
 * analytics_appointments_by_location_daily (contract section 5)
 * One row per (organization_id, location_id, date) with at least one booking of a known status
 * starting that business day (the organization's time zone, across DST changes).
 *   appointments_count       ACCEPTED bookings that day, walk-ins without a profile included
 *                            (future days show what is scheduled)
 *   cancelled_appointments   both cancel statuses;  no_show_appointments
 *   unique_customers         distinct customers with a profile among that day's ACCEPTED bookings
 *   new_customers            customers whose first visit (customer_analytics.first_booking_at,
 *                            as of the latest refresh) falls on that day at that location
 *   returning_customers      unique_customers - new_customers
 * Filter by organization_id and date: both predicates reach the bookings scan.
 */
CREATE OR REPLACE VIEW public.analytics_appointments_by_location_daily
WITH (security_barrier = true) AS
WITH organization_zone AS (
    SELECT o.id AS organization_id, zorina.business_time_zone(o.settings::jsonb) AS time_zone
      FROM public.organizations o
),
day_bookings AS (
    SELECT b.organization_id,
           b.location_id,
           (b.start_at::timestamptz AT TIME ZONE z.time_zone)::date AS date,
           b.status::text AS status,
           CASE WHEN c.square_customer_id IS NOT NULL THEN b.customer_id END AS profiled_customer_id
      FROM public.bookings b
      JOIN organization_zone z ON z.organization_id = b.organization_id
      LEFT JOIN public.square_existing_clients c
             ON c.organization_id = b.organization_id AND c.square_customer_id = b.customer_id
     WHERE b.status::text IN ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED_BY_CUSTOMER',
                              'CANCELLED_BY_SELLER', 'NO_SHOW')
),
daily AS (
    SELECT organization_id, location_id, date,
           count(*) FILTER (WHERE status = 'ACCEPTED')                                         AS appointments_count,
           count(*) FILTER (WHERE status IN ('CANCELLED_BY_CUSTOMER', 'CANCELLED_BY_SELLER'))  AS cancelled_appointments,
           count(*) FILTER (WHERE status = 'NO_SHOW')                                          AS no_show_appointments,
           count(DISTINCT profiled_customer_id) FILTER (WHERE status = 'ACCEPTED')             AS unique_customers
      FROM day_bookings
     GROUP BY organization_id, location_id, date
),
first_visits AS (
    SELECT ca.organization_id,
           ca.first_visit_location_id AS location_id,
           (ca.first_booking_at AT TIME ZONE z.time_zone)::date AS date,
           count(*) AS new_customers
      FROM public.customer_analytics ca
      JOIN organization_zone z ON z.organization_id = ca.organization_id
     WHERE ca.first_booking_at IS NOT NULL
     GROUP BY 1, 2, 3
)
SELECT d.organization_id,
       d.location_id,
       l.name AS location_name,
       d.date,
       d.appointments_count,
       d.cancelled_appointments,
       d.no_show_appointments,
       d.unique_customers,
       coalesce(f.new_customers, 0) AS new_customers,
       d.unique_customers - coalesce(f.new_customers, 0) AS returning_customers
  FROM daily d
  JOIN public.locations l ON l.id = d.location_id
  LEFT JOIN first_visits f
         ON f.organization_id = d.organization_id AND f.location_id = d.location_id AND f.date = d.date;

COMMENT ON VIEW public.analytics_appointments_by_location_daily IS
    'Appointments per location and business day; new_customers counts first visits (not profile creation), as of the latest refresh.';
