/*
 * analytics_appointments_by_location_daily (contract section 5)
 * One row per (organization_id, location_id, date) with at least one booking of a known status
 * starting that business day (the organization's time zone, across DST changes). The columns
 * and their meaning are defined once, in analytics_appointments_by_location_daily_between();
 * this view is that function for every organization and every day.
 * Filter by organization_id: it reaches the function as its argument. A date filter on the view
 * is applied after every day of the organization is computed; for a range of days call the
 * function, whose date range reaches the (organization_id, start_at) index (at 50k customers per
 * organization, 90 days: ~0.9 s through the view, ~0.1 s through the function; see
 * docs/benchmarks.md).
 */
CREATE OR REPLACE VIEW public.analytics_appointments_by_location_daily
WITH (security_barrier = true) AS
SELECT o.id AS organization_id,  -- o.id: a filter on the view reaches the organizations scan
       day.location_id,
       day.location_name,
       day.date,
       day.appointments_count,
       day.cancelled_appointments,
       day.no_show_appointments,
       day.unique_customers,
       day.new_customers,
       day.returning_customers
  FROM public.organizations o
 CROSS JOIN LATERAL public.analytics_appointments_by_location_daily_between(o.id) AS day;

COMMENT ON VIEW public.analytics_appointments_by_location_daily IS
    'Appointments per location and business day; new_customers counts first visits (not profile creation), as of the latest refresh. For a range of days, analytics_appointments_by_location_daily_between() is index-friendly.';
