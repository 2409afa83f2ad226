/*
 * zorina.compute_customer_rows(organization_id, customer_ids, as_of,
 *                              time_zone, new_days, active_days, at_risk_days)
 *   -> SETOF customer_analytics
 *
 * THE definition of every metric of the contract (metrics.md section 3). It reads the source
 * tables and returns one row per profile of the organization (or of the listed customers)
 * exactly as a full refresh at as_of would store it. It writes nothing. Callers go through
 * public.customer_analytics_compute (which reads the organization's settings first) or, in
 * refresh_customer_analytics, call it directly with the settings already read. Every refresh
 * mode, the per-customer refresh and the verification suite use it: no formula lives anywhere
 * else. What it leaves to its callers:
 *   - rfm_* columns are NULL when customer_ids are listed: RFM scores are relative to the whole
 *     organization, so after merging a few customers zorina.refresh_rfm ranks the stored rows
 *     (a one-customer refresh stays cheap). Computing a whole organization ranks them here, in
 *     the same pass (a first load writes each row once, not once more for its scores);
 *   - created_at / updated_at are NULL: they are bookkeeping of the stored row.
 * The organization's settings come in as arguments (zorina.organization_profile reads them) so
 * that this function is PARALLEL SAFE: a full refresh computes several organizations at once in
 * parallel workers, where the time-zone check's exception block (a subtransaction) is not allowed.
 *
 * Time zones: `SET TimeZone = UTC` makes every zone-less source timestamp (Prisma stores some
 * as `timestamp without time zone`) read as UTC through the explicit ::timestamptz casts, and
 * keeps the result independent of the caller's session. Business time (the weekday) is the
 * organization's zone, applied explicitly.
 * Statuses are compared as text so enum-typed status columns work unchanged.
 * force_custom_plan: the plan is made for the actual arguments (a whole organization scans,
 * a few customers use the (organization_id, customer_id) indexes).
 * jit = off: the planner's row estimates for the grouped CTEs are poor, the costs it derives
 * cross the JIT thresholds, and compiling then costs more than the query (measured: 2.3 s with
 * JIT vs 0.5 s without for one organization of 10k customers). For the same reason it chose
 * merge joins with sorts over hash joins of the per-customer aggregates: enable_mergejoin = off.
 * max_parallel_workers_per_gather = 0: for one organization a serial plan is faster than
 * parallel bitmap scans (480 ms vs 520-550 ms at 10k customers); the parallelism that pays is
 * one organization per worker (see refresh_customer_analytics).
 * COST / ROWS: a whole organization is expensive (~0.5 s per 10k customers, what a sequential
 * scan of a few million rows costs in the planner's units); with the default cost the planner
 * judged sending the rows through a Gather dearer than computing two organizations one after
 * the other, and ran them serially.
 */
CREATE OR REPLACE FUNCTION zorina.compute_customer_rows(
    organization_id uuid,
    customer_ids text[],
    as_of timestamptz,
    time_zone text,
    new_days integer,
    active_days integer,
    at_risk_days integer)
RETURNS SETOF public.customer_analytics
LANGUAGE plpgsql STABLE PARALLEL SAFE
COST 10000000 ROWS 10000
SET search_path = pg_catalog, public
SET TimeZone = 'UTC'
SET plan_cache_mode = force_custom_plan
SET jit = off
SET enable_mergejoin = off
SET max_parallel_workers_per_gather = 0
AS $function$
#variable_conflict use_column
DECLARE
    v_org constant uuid := compute_customer_rows.organization_id;
    v_ids constant text[] := compute_customer_rows.customer_ids;
    v_as_of constant timestamptz := compute_customer_rows.as_of;
    v_time_zone constant text := compute_customer_rows.time_zone;
    v_new_days constant integer := compute_customer_rows.new_days;
    v_active_days constant integer := compute_customer_rows.active_days;
    v_at_risk_days constant integer := compute_customer_rows.at_risk_days;
    -- window edges, computed once (timestamptz - interval is STABLE: in a query it would be
    -- evaluated again for every row); in UTC, as everything here
    v_since_30d  constant timestamptz := v_as_of - interval '30 days';
    v_since_90d  constant timestamptz := v_as_of - interval '90 days';
    v_since_365d constant timestamptz := v_as_of - interval '365 days';
BEGIN
    RETURN QUERY
    WITH
    profiles AS MATERIALIZED (
        SELECT c.*
          FROM public.square_existing_clients c
         WHERE c.organization_id = v_org
           AND (v_ids IS NULL OR c.square_customer_id = ANY (v_ids))
    ),
    -- Every aggregate below reads the organization's bookings (or the listed customers') directly
    -- and groups by customer_id with hash aggregation: no ordered or DISTINCT aggregate, no sort of
    -- all bookings. Bookings whose customer has no profile are aggregated too and dropped by the
    -- final join from profiles (cheaper than joining every booking to its profile first).
    -- Each booking's status is classified once (a CASE, not one comparison per aggregate: a
    -- flattened LATERAL would repeat the expression in every FILTER); OFFSET 0 keeps this
    -- projection from being flattened into the aggregate.
    classified_bookings AS MATERIALIZED (
        SELECT b.customer_id,
               b.booking_id,
               b.location_id,
               b.technician_id,
               b.service_variation_id,
               b.start_at::timestamptz AS start_at,
               b.duration_minutes,
               CASE b.status::text
                   WHEN 'ACCEPTED' THEN 1 WHEN 'PENDING' THEN 2 WHEN 'CANCELLED_BY_CUSTOMER' THEN 3
                   WHEN 'CANCELLED_BY_SELLER' THEN 4 WHEN 'NO_SHOW' THEN 5 WHEN 'DECLINED' THEN 6
                   ELSE 0  -- not one of the six known statuses
               END AS status_code,
               b.start_at::timestamptz <= v_as_of AS has_started,
               b.customer_note,
               b.seller_note
          FROM public.bookings b
         WHERE b.organization_id = v_org
           AND b.customer_id IS NOT NULL
           AND (v_ids IS NULL OR b.customer_id = ANY (v_ids))
    ),
    booking_figures AS (
        SELECT b.customer_id,
               -- status_code 1 = ACCEPTED: a visit once started, upcoming before (with 2 = PENDING)
               min(b.start_at) FILTER (WHERE b.status_code = 1 AND b.has_started)          AS first_booking_at,
               max(b.start_at) FILTER (WHERE b.status_code = 1 AND b.has_started)          AS last_booking_at,
               min(b.start_at) FILTER (WHERE b.status_code IN (1, 2) AND NOT b.has_started) AS next_booking_at,
               count(*) FILTER (WHERE b.status_code <> 0)                                  AS total_bookings,
               count(*) FILTER (WHERE b.status_code = 1 AND b.has_started)                 AS visits,
               count(*) FILTER (WHERE b.status_code IN (1, 2) AND NOT b.has_started)       AS upcoming_bookings,
               count(*) FILTER (WHERE b.status_code = 3)                                   AS cancelled_by_customer,
               count(*) FILTER (WHERE b.status_code = 4)                                   AS cancelled_by_seller,
               count(*) FILTER (WHERE b.status_code = 5)                                   AS no_shows,
               count(*) FILTER (WHERE b.status_code = 6)                                   AS declined,
               count(*) FILTER (WHERE b.status_code = 1 AND b.has_started
                                  AND b.start_at > v_since_30d)          AS visits_last_30d,
               count(*) FILTER (WHERE b.status_code = 1 AND b.has_started
                                  AND b.start_at > v_since_90d)          AS visits_last_90d,
               count(*) FILTER (WHERE b.status_code = 1 AND b.has_started
                                  AND b.start_at > v_since_365d)         AS visits_last_365d,
               coalesce(sum(coalesce(b.duration_minutes, 0))
                            FILTER (WHERE b.status_code = 1 AND b.has_started), 0)         AS booked_minutes
          FROM classified_bookings b
         GROUP BY b.customer_id
    ),
    -- the location of the first and of the last visit; at the same instant the smallest booking
    -- id wins: min() over [booking_id, location] arrays compares booking ids bytewise first
    first_last_visit AS (
        SELECT b.customer_id,
               (min(ARRAY[b.booking_id COLLATE "C", b.location_id::text])
                    FILTER (WHERE b.start_at = bf.first_booking_at))[2]::uuid AS first_visit_location_id,
               (min(ARRAY[b.booking_id COLLATE "C", b.location_id::text])
                    FILTER (WHERE b.start_at = bf.last_booking_at))[2]::uuid  AS last_visit_location_id
          FROM classified_bookings b
          JOIN booking_figures bf
            ON bf.customer_id = b.customer_id
           AND b.start_at IN (bf.first_booking_at, bf.last_booking_at)
         WHERE b.status_code = 1
         GROUP BY b.customer_id
    ),
    -- "preferred X" = the mode over visits: most visits, then the most recent visit, then the
    -- smallest value. One grouping-sets pass counts visits per customer and location,
    -- technician, service and business weekday; the same groups give the distinct counts.
    visit_dimension_counts AS (
        SELECT b.customer_id,
               -- 7: grouped by location, 11: technician, 13: service, 14: weekday (GROUPING bits)
               GROUPING(b.location_id, b.technician_id, b.service_variation_id, visit_weekday.weekday) AS dimension,
               -- the group's id (NULL in the weekday's groups, and for visits without one)
               coalesce(b.location_id, b.technician_id, b.service_variation_id)::uuid AS value_id,
               visit_weekday.weekday,
               count(*) AS visits,
               max(b.start_at) AS latest_visit_at
          FROM classified_bookings b
         CROSS JOIN LATERAL (SELECT extract(isodow FROM b.start_at AT TIME ZONE v_time_zone)::integer
                                        AS weekday) AS visit_weekday
         WHERE b.status_code = 1 AND b.has_started
         GROUP BY GROUPING SETS ((b.customer_id, b.location_id), (b.customer_id, b.technician_id),
                                 (b.customer_id, b.service_variation_id), (b.customer_id, visit_weekday.weekday))
    ),
    -- each dimension's ids among these visits, numbered in their order (uuid order: byte order),
    -- so that the last tie-break, the smallest value, is a number (a weekday is its own number)
    dimension_values AS MATERIALIZED (
        SELECT v.dimension, v.value_id,
               row_number() OVER (PARTITION BY v.dimension ORDER BY v.value_id) AS value_number
          FROM (SELECT DISTINCT c.dimension, c.value_id
                  FROM visit_dimension_counts c
                 WHERE c.value_id IS NOT NULL) AS v
    ),
    -- per customer and dimension the mode is the greatest [visits, latest visit, -value number]:
    -- arrays compare element by element, the contract's tie-breaks in order. One hash aggregate
    -- per customer, no sort of the (customer, dimension, value) groups (which cost twice as
    -- much); the counts are whole numbers of seconds (to_timestamp) so that one timestamptz
    -- array holds all three exactly. NULL values are ignored: not counted, never a mode.
    preference_keys AS (
        SELECT keyed.customer_id,
               max(keyed.mode_key) FILTER (WHERE keyed.dimension = 7)  AS location_key,
               max(keyed.mode_key) FILTER (WHERE keyed.dimension = 11) AS technician_key,
               max(keyed.mode_key) FILTER (WHERE keyed.dimension = 13) AS service_key,
               max(keyed.mode_key) FILTER (WHERE keyed.dimension = 14) AS weekday_key,
               count(*) FILTER (WHERE keyed.dimension = 7)  AS locations,
               count(*) FILTER (WHERE keyed.dimension = 11) AS technicians,
               count(*) FILTER (WHERE keyed.dimension = 13) AS services
          FROM (SELECT c.customer_id, c.dimension,
                       ARRAY[to_timestamp(c.visits), c.latest_visit_at,
                             to_timestamp(-coalesce(dv.value_number, c.weekday))] AS mode_key
                  FROM visit_dimension_counts c
                  LEFT JOIN dimension_values dv ON dv.dimension = c.dimension AND dv.value_id = c.value_id
                 WHERE c.value_id IS NOT NULL OR c.weekday IS NOT NULL) AS keyed
         GROUP BY keyed.customer_id
    ),
    -- back from numbers to ids: each dimension's ids in an array, the number its position
    numbered_ids AS (
        SELECT array_agg(dv.value_id ORDER BY dv.value_number) FILTER (WHERE dv.dimension = 7)  AS location_ids,
               array_agg(dv.value_id ORDER BY dv.value_number) FILTER (WHERE dv.dimension = 11) AS technician_ids,
               array_agg(dv.value_id ORDER BY dv.value_number) FILTER (WHERE dv.dimension = 13) AS service_ids
          FROM dimension_values dv
    ),
    preferences AS (
        SELECT k.customer_id,
               ids.location_ids[-extract(epoch FROM k.location_key[3])::integer]     AS preferred_location_id,
               ids.technician_ids[-extract(epoch FROM k.technician_key[3])::integer] AS preferred_technician_id,
               ids.service_ids[-extract(epoch FROM k.service_key[3])::integer]       AS preferred_service_variation_id,
               (-extract(epoch FROM k.weekday_key[3]))::smallint                     AS preferred_weekday,
               k.locations, k.technicians, k.services
          FROM preference_keys k
         CROSS JOIN numbered_ids ids
    ),
    -- notes of any booking (known status or not), newest first, customer's before seller's;
    -- from the bookings already read (classified_bookings holds every status), not a second scan
    note_items AS (
        SELECT b.customer_id, b.start_at, b.booking_id, n.source_rank,
               jsonb_build_object('booking_id', b.booking_id, 'start_at', b.start_at,
                                  'source', n.source, 'note', n.note) AS item
          FROM classified_bookings b
         CROSS JOIN LATERAL (VALUES (1, 'customer', b.customer_note),
                                    (2, 'seller',   b.seller_note)) AS n(source_rank, source, note)
         WHERE (btrim(b.customer_note) <> '' OR btrim(b.seller_note) <> '')
           AND btrim(n.note) <> ''
    ),
    notes AS (
        SELECT customer_id,
               jsonb_agg(item ORDER BY start_at DESC, booking_id COLLATE "C", source_rank) AS booking_notes
          FROM note_items
         GROUP BY customer_id
    ),
    -- completed payments, whatever their created_at; "revenue" is always total minus tip
    completed_payments AS (
        SELECT pay.customer_id,
               pay.total_money_amount::bigint AS total_cents,
               coalesce(pay.tip_money_amount, 0)::bigint AS tip_cents,
               pay.total_money_amount::bigint - coalesce(pay.tip_money_amount, 0) AS revenue_cents,
               pay.created_at::timestamptz AS created_at
          FROM public.payments pay
         WHERE pay.organization_id = v_org
           AND pay.customer_id IS NOT NULL
           AND (v_ids IS NULL OR pay.customer_id = ANY (v_ids))
           AND pay.status::text = 'COMPLETED'
        OFFSET 0  -- evaluate the casts once per payment (see classified_bookings)
    ),
    payment_figures AS (
        SELECT pay.customer_id,
               count(*)                       AS total_payments,
               sum(pay.total_cents)           AS gross_revenue_cents,
               sum(pay.tip_cents)             AS total_tips_cents,
               sum(pay.revenue_cents)         AS total_revenue_cents,
               max(pay.revenue_cents)         AS max_ticket_cents,
               min(pay.created_at)            AS first_payment_at,
               max(pay.created_at)            AS last_payment_at,
               coalesce(sum(pay.revenue_cents) FILTER (WHERE pay.created_at > v_since_30d
                                                         AND pay.created_at <= v_as_of), 0)  AS revenue_last_30d_cents,
               coalesce(sum(pay.revenue_cents) FILTER (WHERE pay.created_at > v_since_90d
                                                         AND pay.created_at <= v_as_of), 0)  AS revenue_last_90d_cents,
               coalesce(sum(pay.revenue_cents) FILTER (WHERE pay.created_at > v_since_365d
                                                         AND pay.created_at <= v_as_of), 0)  AS revenue_last_365d_cents
          FROM completed_payments pay
         GROUP BY pay.customer_id
    ),
    -- who referred whom: the organization's codes, trimmed and lower-cased, each owned by the
    -- smallest customer id that carries it as personal_code or referral_code
    -- the codes the listed profiles used, then their owners: one lookup per code column, each
    -- matching the expression indexes of migration 0004 (a few customers: index probes; a whole
    -- organization: one hash semi-join)
    used_codes AS (
        SELECT DISTINCT lower(btrim(p.used_referral_code)) AS code
          FROM profiles p
         WHERE btrim(p.used_referral_code) <> ''
    ),
    referral_codes AS (
        SELECT u.code, min(owner.customer_id COLLATE "C") AS owner_customer_id
          FROM used_codes u
         CROSS JOIN LATERAL (
                SELECT c.square_customer_id AS customer_id
                  FROM public.square_existing_clients c
                 WHERE c.organization_id = v_org
                   AND btrim(c.personal_code) <> ''
                   AND lower(btrim(c.personal_code)) = u.code
                UNION ALL
                SELECT c.square_customer_id
                  FROM public.square_existing_clients c
                 WHERE c.organization_id = v_org
                   AND btrim(c.referral_code) <> ''
                   AND lower(btrim(c.referral_code)) = u.code) AS owner
         GROUP BY u.code
    ),
    -- RFM (contract section 3) is relative to the whole organization: ranked here only when the
    -- whole organization is computed; for listed customers it stays NULL and zorina.refresh_rfm
    -- ranks the stored rows after the merge. Same keys as the stored columns.
    rfm_scores AS (
        SELECT p.square_customer_id AS customer_id,
               ntile(5) OVER (ORDER BY zorina.days_between(bf.last_booking_at, v_as_of) DESC,
                                       p.square_customer_id COLLATE "C")                  AS recency,
               ntile(5) OVER (ORDER BY bf.visits, p.square_customer_id COLLATE "C")       AS frequency,
               ntile(5) OVER (ORDER BY coalesce(pf.total_revenue_cents, 0),
                                       p.square_customer_id COLLATE "C")                  AS monetary
          FROM profiles p
          JOIN booking_figures bf ON bf.customer_id = p.square_customer_id AND bf.visits > 0
          LEFT JOIN payment_figures pf ON pf.customer_id = p.square_customer_id
         WHERE v_ids IS NULL
    ),
    reward_figures AS (
        SELECT r.referrer_customer_id AS customer_id,
               count(DISTINCT r.referred_customer_id) AS total_referrals,
               sum(r.reward_amount_cents)             AS total_rewards_cents
          FROM public.referral_rewards r
         WHERE r.organization_id = v_org
           AND (v_ids IS NULL OR r.referrer_customer_id = ANY (v_ids))
           AND r.status::text = 'PAID'
         GROUP BY r.referrer_customer_id
    )
    SELECT
        p.organization_id,
        p.square_customer_id,
        -- profile
        p.given_name,
        p.family_name,
        p.email_address,
        p.phone_number,
        p.created_at::timestamptz,
        p.creation_source,
        p.acquisition_source,
        -- bookings
        bf.first_booking_at,
        bf.last_booking_at,
        bf.next_booking_at,
        flv.first_visit_location_id,
        flv.last_visit_location_id,
        coalesce(bf.total_bookings, 0)::integer,
        coalesce(bf.visits, 0)::integer,
        coalesce(bf.upcoming_bookings, 0)::integer,
        coalesce(bf.cancelled_by_customer, 0)::integer,
        coalesce(bf.cancelled_by_seller, 0)::integer,
        coalesce(bf.no_shows, 0)::integer,
        coalesce(bf.declined, 0)::integer,
        round(bf.no_shows::numeric / nullif(bf.visits + bf.no_shows, 0), 4)::numeric(5,4),
        round(bf.cancelled_by_customer::numeric / nullif(bf.total_bookings, 0), 4)::numeric(5,4),
        coalesce(bf.visits_last_30d, 0)::integer,
        coalesce(bf.visits_last_90d, 0)::integer,
        coalesce(bf.visits_last_365d, 0)::integer,
        coalesce(bf.booked_minutes, 0)::bigint,
        visit_rhythm.avg_days_between_visits,
        zorina.days_between(bf.last_booking_at, v_as_of),
        zorina.days_between(bf.first_booking_at, v_as_of),
        bf.last_booking_at + visit_rhythm.avg_days_between_visits::float8 * interval '1 day',
        zorina.is_overdue(zorina.days_between(bf.last_booking_at, v_as_of), visit_rhythm.avg_days_between_visits),
        coalesce(pref.locations, 0)::integer,
        coalesce(pref.technicians, 0)::integer,
        coalesce(pref.services, 0)::integer,
        pref.preferred_location_id,
        pref.preferred_technician_id,
        pref.preferred_service_variation_id,
        pref.preferred_weekday,
        coalesce(n.booking_notes, '[]'::jsonb),
        -- payments
        coalesce(pf.total_payments, 0)::integer,
        coalesce(pf.gross_revenue_cents, 0)::bigint,
        coalesce(pf.total_tips_cents, 0)::bigint,
        coalesce(pf.total_revenue_cents, 0)::bigint,
        coalesce(round(pf.total_revenue_cents::numeric / nullif(pf.total_payments, 0)), 0)::bigint,
        coalesce(pf.max_ticket_cents, 0)::bigint,
        pf.first_payment_at,
        pf.last_payment_at,
        coalesce(pf.revenue_last_30d_cents, 0)::bigint,
        coalesce(pf.revenue_last_90d_cents, 0)::bigint,
        coalesce(pf.revenue_last_365d_cents, 0)::bigint,
        -- referrals
        coalesce(p.activated_as_referrer, false),
        rp.activated_at::timestamptz,
        p.personal_code,
        referral.source,
        CASE WHEN rc.owner_customer_id <> p.square_customer_id THEN rc.owner_customer_id::text END,
        coalesce(rf.total_referrals, 0)::integer,
        coalesce(rf.total_rewards_cents, 0)::bigint,
        -- segments (RFM: NULL unless the whole organization is computed, see rfm_scores)
        zorina.customer_segment(bf.first_booking_at, bf.last_booking_at, v_as_of,
                                v_new_days, v_active_days, v_at_risk_days),
        rfm.recency::smallint,
        rfm.frequency::smallint,
        rfm.monetary::smallint,
        zorina.rfm_segment(rfm.recency, rfm.frequency, rfm.monetary),
        -- bookkeeping belongs to the stored row
        NULL::timestamptz,
        NULL::timestamptz
      FROM profiles p
      LEFT JOIN booking_figures bf ON bf.customer_id = p.square_customer_id
      LEFT JOIN first_last_visit flv ON flv.customer_id = p.square_customer_id
      LEFT JOIN preferences pref   ON pref.customer_id = p.square_customer_id
      LEFT JOIN notes n            ON n.customer_id = p.square_customer_id
      LEFT JOIN payment_figures pf ON pf.customer_id = p.square_customer_id
      LEFT JOIN reward_figures rf  ON rf.customer_id = p.square_customer_id
      LEFT JOIN rfm_scores rfm     ON rfm.customer_id = p.square_customer_id
      LEFT JOIN public.referral_profiles rp  -- v_org spelled out: profiles is a materialized CTE
             ON rp.organization_id = v_org AND rp.square_customer_id = p.square_customer_id
     CROSS JOIN LATERAL (
            SELECT round(zorina.days_between(bf.first_booking_at, bf.last_booking_at)::numeric
                         / nullif(bf.visits - 1, 0), 1)::numeric(10,1) AS avg_days_between_visits
           ) AS visit_rhythm
     CROSS JOIN LATERAL (SELECT nullif(btrim(p.used_referral_code), '') AS source) AS referral
      LEFT JOIN referral_codes rc ON rc.code = lower(referral.source);
END
$function$;

COMMENT ON FUNCTION zorina.compute_customer_rows(uuid, text[], timestamptz, text, integer, integer, integer) IS
    'Computes customer_analytics rows (bookkeeping NULL; RFM only for a whole organization) for an organization or some of its customers at as_of, given its settings; writes nothing. The single definition of every metric.';
