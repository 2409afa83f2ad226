/*
 * analytics_appointments_by_location_daily_between(organization, first_date DEFAULT NULL,
 *                                                  last_date DEFAULT NULL)
 *   -> the rows of analytics_appointments_by_location_daily for one organization, business days
 *      first_date .. last_date (NULL: unbounded on that side)
 *
 *     SELECT * FROM analytics_appointments_by_location_daily_between(
 *         '<organization uuid>', current_date - 89, current_date);
 *
 * THE definition of the daily appointments view (contract section 5); the view is this function
 * applied to every organization. Why a function: `date` is the business day in the
 * organization's time zone, an expression over start_at, so a date filter on the view cannot use
 * the (organization_id, start_at) index and reads every booking of the organization. Here the
 * business days become an instant range first (widened by a day on each side, so no time-zone
 * or DST edge can lose a booking), read by the index one business day at a time (the days
 * around a clock change together, so a day that starts twice still counts each customer once);
 * the exact day filter follows.
 *   appointments_count       ACCEPTED bookings that day, walk-ins without a profile included
 *                            (future days show what is scheduled)
 *   cancelled_appointments   both cancel statuses;  no_show_appointments
 *   unique_customers         distinct customers with a profile among that day's ACCEPTED bookings
 *   new_customers            customers whose first visit (customer_analytics.first_booking_at,
 *                            as of the latest refresh) falls on that day at that location
 *   returning_customers      unique_customers - new_customers
 * Bad input (NULL or unknown organization, first_date after last_date) is an error naming it.
 */
CREATE OR REPLACE FUNCTION public.analytics_appointments_by_location_daily_between(
    organization uuid, first_date date DEFAULT NULL, last_date date DEFAULT NULL)
RETURNS TABLE (organization_id uuid, location_id uuid, location_name text, date date,
               appointments_count bigint, cancelled_appointments bigint,
               no_show_appointments bigint, unique_customers bigint, new_customers bigint,
               returning_customers bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
SET TimeZone = 'UTC'   -- zone-less source timestamps read as UTC, as in the compute
SET plan_cache_mode = force_custom_plan
-- one profile lookup per customer and day (a nested loop) cost 15 ms per 9k bookings; hashing the
-- organization's profile keys once costs 3 ms at 10k customers (the per-day chunks are still
-- read by a nested loop: a LATERAL join has no other form)
SET enable_nestloop = off
-- hash aggregates, not sorts: the planner sorted the range's bookings by (location, day,
-- customer) to feed both groupings (165 ms vs 131 ms for 55k bookings)
SET enable_sort = off
-- its estimates cross the JIT thresholds at a few hundred thousand bookings; compiling cost
-- ~20 ms of a ~100 ms query (90 days, 50k customers)
SET jit = off
AS $function$
#variable_conflict use_column
DECLARE
    v_org   constant uuid := analytics_appointments_by_location_daily_between.organization;
    v_first constant date := analytics_appointments_by_location_daily_between.first_date;
    v_last  constant date := analytics_appointments_by_location_daily_between.last_date;
    v_zone text;
    v_scan_first_day date;
    v_scan_last_day date;
    v_scan_from timestamptz;
    v_scan_to timestamptz;
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'organization must not be NULL'
            USING ERRCODE = '22004', HINT = 'SELECT id, name FROM organizations lists them';
    END IF;
    IF v_first > v_last THEN
        RAISE EXCEPTION 'first_date % is after last_date %', v_first, v_last
            USING ERRCODE = '22023', HINT = 'give the business days as first_date <= last_date';
    END IF;
    SELECT zorina.business_time_zone(o.settings::jsonb) INTO v_zone
      FROM public.organizations o WHERE o.id = v_org;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'organization % does not exist', v_org
            USING ERRCODE = '22023', HINT = 'SELECT id, name FROM organizations lists them';
    END IF;
    -- the business days to read, a day wider on each side (no time-zone or DST edge can lose a
    -- booking); unbounded: from the organization's first booking to its last (index probes)
    v_scan_first_day := coalesce(v_first, (SELECT (min(b.start_at::timestamptz) AT TIME ZONE v_zone)::date
                                             FROM public.bookings b WHERE b.organization_id = v_org)) - 1;
    v_scan_last_day  := coalesce(v_last, (SELECT (max(b.start_at::timestamptz) AT TIME ZONE v_zone)::date
                                            FROM public.bookings b WHERE b.organization_id = v_org)) + 1;
    v_scan_from := v_scan_first_day::timestamp AT TIME ZONE v_zone;
    v_scan_to   := (v_scan_last_day + 1)::timestamp AT TIME ZONE v_zone;

    RETURN QUERY
    WITH
    -- the read range cut at each local midnight into one chunk per business day (a running max
    -- keeps the edges rising whatever a time zone does at midnight): the chunks cover the range
    -- exactly once, so every booking is read once
    day_chunks AS (
        SELECT edges.day::date AS day, edges.chunk_start,
               lead(edges.chunk_start) OVER (ORDER BY edges.day) AS chunk_end
          FROM (SELECT g.day,
                       max(g.day::timestamp AT TIME ZONE v_zone) OVER (ORDER BY g.day) AS chunk_start
                  FROM generate_series(v_scan_first_day::timestamp, (v_scan_last_day + 1)::timestamp,
                                       interval '1 day') AS g(day)) AS edges
    ),
    -- a chunk is a plain business day when it is 24 hours long and starts and ends at local
    -- midnights: every instant in it is then on that day, and its bookings need no time-zone
    -- conversion each (~0.5 us a booking, a sixth of the query at L). One clock change inside
    -- would break the length or an end (a forward jump across midnight makes the end's
    -- midnight one that does not exist); this assumes no zone changes its clock twice in a day.
    -- MATERIALIZED: the flag is computed once per chunk, however often the steps below read it.
    plain_chunks AS MATERIALIZED (
        SELECT ch.day, ch.chunk_start, ch.chunk_end,
               ch.chunk_end - ch.chunk_start = interval '24 hours'
               AND (ch.chunk_start AT TIME ZONE v_zone) = ch.day::timestamp
               AND (ch.chunk_end AT TIME ZONE v_zone) = (ch.day + 1)::timestamp AS plain_day
          FROM day_chunks ch
         WHERE ch.chunk_end IS NOT NULL
    ),
    -- what is read at once: a plain day whose neighbours are plain too, alone; the days around a
    -- chunk that is not plain (DST days, clocks changing at midnight), together. A business day
    -- can lie in two chunks only there (a day that starts twice, when clocks go back at
    -- midnight, begins in the chunk before; both neighbours, whichever of the two instants is
    -- taken for such a midnight), and a customer's bookings of that day must meet in one group
    -- to count once in unique_customers. (A clock going back by less than a day keeps every
    -- other chunk's instants on its own day.)
    near_changes AS (
        SELECT pc.day, pc.chunk_start, pc.chunk_end,
               NOT (pc.plain_day
                    AND coalesce(lag(pc.plain_day) OVER by_day, true)
                    AND coalesce(lead(pc.plain_day) OVER by_day, true)) AS near_change
          FROM plain_chunks pc
        WINDOW by_day AS (ORDER BY pc.day)
    ),
    -- runs of days near a change numbered as one read; MATERIALIZED: plain_day is a value for
    -- the scan below, not an expression it would evaluate again for every booking
    reads AS MATERIALIZED (
        SELECT min(numbered.day) AS day, min(numbered.chunk_start) AS read_from,
               max(numbered.chunk_end) AS read_to, bool_and(NOT numbered.near_change) AS plain_day
          FROM (SELECT starts.*, sum(starts.starts_read) OVER (ORDER BY starts.day) AS read_number
                  FROM (SELECT nc.*,
                               CASE WHEN nc.near_change AND lag(nc.near_change) OVER (ORDER BY nc.day)
                                    THEN 0 ELSE 1 END AS starts_read
                          FROM near_changes nc) AS starts) AS numbered
         GROUP BY numbered.read_number
    ),
    -- per read, per location, business day and customer (walk-ins share the NULL customer
    -- group): a small hash table per day instead of one of every (location, day, customer) of
    -- the range (~54k at L, 30 ms of a 90 ms query); the business day is the read's on a plain
    -- day, else computed per booking; OFFSET 0 keeps the day filter below from being pushed into
    -- the scan; the profile lookup below runs once per group
    day_customer_bookings AS (
        SELECT grouped.*
          FROM reads r
          CROSS JOIN LATERAL (
              SELECT b.location_id,
                     CASE WHEN r.plain_day THEN r.day
                          ELSE (b.start_at::timestamptz AT TIME ZONE v_zone)::date END AS date,
                     b.customer_id,
                     count(*) FILTER (WHERE b.status::text = 'ACCEPTED')                                        AS accepted,
                     count(*) FILTER (WHERE b.status::text IN ('CANCELLED_BY_CUSTOMER', 'CANCELLED_BY_SELLER')) AS cancelled,
                     count(*) FILTER (WHERE b.status::text = 'NO_SHOW')                                         AS no_shows
                FROM public.bookings b
               WHERE b.organization_id = v_org
                 AND b.start_at >= r.read_from
                 AND b.start_at < r.read_to
                 AND b.status::text IN ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED_BY_CUSTOMER',
                                        'CANCELLED_BY_SELLER', 'NO_SHOW')
               GROUP BY 1, 2, 3) AS grouped
        OFFSET 0
    ),
    -- only customers with an ACCEPTED booking that day count towards unique_customers, and only
    -- those with a profile: one hash of the organization's profile keys
    day_customers AS (
        SELECT d.location_id, d.date, d.accepted, d.cancelled, d.no_shows,
               c.square_customer_id AS profiled_customer_id
          FROM day_customer_bookings d
          LEFT JOIN public.square_existing_clients c
                 ON c.organization_id = v_org
                AND c.square_customer_id = CASE WHEN d.accepted > 0 THEN d.customer_id END
         WHERE (v_first IS NULL OR d.date >= v_first)
           AND (v_last IS NULL OR d.date <= v_last)
    ),
    daily AS (
        SELECT location_id, date,
               sum(accepted)::bigint                                                    AS appointments_count,
               sum(cancelled)::bigint                                                   AS cancelled_appointments,
               sum(no_shows)::bigint                                                    AS no_show_appointments,
               count(profiled_customer_id)                                              AS unique_customers
          FROM day_customers
         GROUP BY location_id, date
    ),
    first_visits AS (
        SELECT ca.first_visit_location_id AS location_id,
               (ca.first_booking_at AT TIME ZONE v_zone)::date AS date,
               count(*) AS new_customers
          FROM public.customer_analytics ca
         WHERE ca.organization_id = v_org
           AND ca.first_booking_at IS NOT NULL
           AND ca.first_booking_at >= v_scan_from
           AND ca.first_booking_at < v_scan_to
         GROUP BY 1, 2
    )
    SELECT v_org,
           d.location_id,
           l.name::text,
           d.date,
           d.appointments_count,
           d.cancelled_appointments,
           d.no_show_appointments,
           d.unique_customers,
           coalesce(f.new_customers, 0),
           d.unique_customers - coalesce(f.new_customers, 0)
      FROM daily d
      JOIN public.locations l ON l.id = d.location_id
      LEFT JOIN first_visits f ON f.location_id = d.location_id AND f.date = d.date;
END
$function$;

COMMENT ON FUNCTION public.analytics_appointments_by_location_daily_between(uuid, date, date) IS
    'Appointments per location and business day for one organization and a range of days (index-friendly form of analytics_appointments_by_location_daily).';
