/*
 * The peers zorina-db is measured against (bench/, never installed by apply).
 *
 * peer_customer_metrics: what a competent engineer writes instead - a plain 35-column
 * per-customer query (booking and payment counts / sums / min / max, a segment CASE) as a
 * materialized view refreshed by cron. A unique index makes REFRESH ... CONCURRENTLY possible.
 *
 * peer_customer_analytics + peer_seed_upsert(): the seed's hourly job - one big CTE over the
 * last 90 days, INSERT ... ON CONFLICT DO UPDATE of every row.
 */
DROP MATERIALIZED VIEW IF EXISTS peer_customer_metrics;
CREATE MATERIALIZED VIEW peer_customer_metrics AS
WITH booking_stats AS (
    SELECT organization_id, customer_id,
           count(*)                                                        AS total_bookings,
           count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at <= now()) AS visits,
           count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at > now())  AS upcoming,
           count(*) FILTER (WHERE status = 'CANCELLED_BY_CUSTOMER')         AS cancelled_by_customer,
           count(*) FILTER (WHERE status = 'CANCELLED_BY_SELLER')           AS cancelled_by_seller,
           count(*) FILTER (WHERE status = 'NO_SHOW')                       AS no_shows,
           count(*) FILTER (WHERE status = 'DECLINED')                      AS declined,
           min(start_at) FILTER (WHERE status = 'ACCEPTED' AND start_at <= now()) AS first_visit,
           max(start_at) FILTER (WHERE status = 'ACCEPTED' AND start_at <= now()) AS last_visit,
           min(start_at) FILTER (WHERE start_at > now())                    AS next_booking,
           count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at > now() - interval '30 days' AND start_at <= now())  AS visits_30d,
           count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at > now() - interval '90 days' AND start_at <= now())  AS visits_90d,
           count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at > now() - interval '365 days' AND start_at <= now()) AS visits_365d,
           sum(coalesce(duration_minutes, 0)) FILTER (WHERE status = 'ACCEPTED') AS booked_minutes,
           count(DISTINCT location_id)                                      AS distinct_locations
      FROM bookings
     WHERE customer_id IS NOT NULL
     GROUP BY organization_id, customer_id
),
payment_stats AS (
    SELECT organization_id, customer_id,
           count(*)                                          AS payments,
           sum(total_money_amount)                           AS gross_cents,
           sum(coalesce(tip_money_amount, 0))                AS tips_cents,
           sum(total_money_amount - coalesce(tip_money_amount, 0)) AS revenue_cents,
           avg(total_money_amount - coalesce(tip_money_amount, 0)) AS avg_ticket,
           max(total_money_amount - coalesce(tip_money_amount, 0)) AS max_ticket,
           min(created_at)                                   AS first_payment,
           max(created_at)                                   AS last_payment,
           sum(total_money_amount) FILTER (WHERE created_at > (now() - interval '30 days') AT TIME ZONE 'UTC')  AS revenue_30d,
           sum(total_money_amount) FILTER (WHERE created_at > (now() - interval '90 days') AT TIME ZONE 'UTC')  AS revenue_90d,
           sum(total_money_amount) FILTER (WHERE created_at > (now() - interval '365 days') AT TIME ZONE 'UTC') AS revenue_365d
      FROM payments
     WHERE customer_id IS NOT NULL AND status = 'COMPLETED'
     GROUP BY organization_id, customer_id
)
SELECT c.organization_id, c.square_customer_id, c.given_name, c.family_name, c.email_address,
       c.phone_number, c.created_at AS profile_created_at,
       b.total_bookings, b.visits, b.upcoming, b.cancelled_by_customer, b.cancelled_by_seller,
       b.no_shows, b.declined, b.first_visit, b.last_visit, b.next_booking, b.visits_30d,
       b.visits_90d, b.visits_365d, b.booked_minutes, b.distinct_locations,
       p.payments, p.gross_cents, p.tips_cents, p.revenue_cents, p.avg_ticket, p.max_ticket,
       p.first_payment, p.last_payment, p.revenue_30d, p.revenue_90d, p.revenue_365d,
       CASE WHEN b.first_visit IS NULL THEN 'PROSPECT'
            WHEN b.first_visit > now() - interval '30 days' THEN 'NEW'
            WHEN b.last_visit > now() - interval '45 days' THEN 'ACTIVE'
            WHEN b.last_visit > now() - interval '90 days' THEN 'AT_RISK'
            ELSE 'LOST' END AS segment
  FROM square_existing_clients c
  LEFT JOIN booking_stats b ON b.organization_id = c.organization_id AND b.customer_id = c.square_customer_id
  LEFT JOIN payment_stats p ON p.organization_id = c.organization_id AND p.customer_id = c.square_customer_id
WITH NO DATA;
CREATE UNIQUE INDEX peer_customer_metrics_key ON peer_customer_metrics (organization_id, square_customer_id);

DROP TABLE IF EXISTS peer_customer_analytics;
CREATE TABLE peer_customer_analytics AS SELECT * FROM peer_customer_metrics WITH NO DATA;
ALTER TABLE peer_customer_analytics ADD PRIMARY KEY (organization_id, square_customer_id);
ALTER TABLE peer_customer_analytics ADD COLUMN updated_at timestamptz;

-- The seed's hourly job: the same 35 columns over the last 90 days, every row upserted.
CREATE OR REPLACE FUNCTION peer_seed_upsert() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_rows bigint;
BEGIN
    WITH recent_bookings AS (
        SELECT * FROM bookings WHERE start_at > now() - interval '90 days' AND customer_id IS NOT NULL
    ),
    recent_payments AS (
        SELECT * FROM payments WHERE created_at > (now() - interval '90 days') AT TIME ZONE 'UTC'
                                 AND customer_id IS NOT NULL AND status = 'COMPLETED'
    ),
    booking_stats AS (
        SELECT organization_id, customer_id, count(*) AS total_bookings,
               count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at <= now()) AS visits,
               count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at > now()) AS upcoming,
               count(*) FILTER (WHERE status = 'CANCELLED_BY_CUSTOMER') AS cancelled_by_customer,
               count(*) FILTER (WHERE status = 'CANCELLED_BY_SELLER') AS cancelled_by_seller,
               count(*) FILTER (WHERE status = 'NO_SHOW') AS no_shows,
               count(*) FILTER (WHERE status = 'DECLINED') AS declined,
               min(start_at) FILTER (WHERE status = 'ACCEPTED' AND start_at <= now()) AS first_visit,
               max(start_at) FILTER (WHERE status = 'ACCEPTED' AND start_at <= now()) AS last_visit,
               min(start_at) FILTER (WHERE start_at > now()) AS next_booking,
               count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at > now() - interval '30 days' AND start_at <= now()) AS visits_30d,
               count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at <= now()) AS visits_90d,
               count(*) FILTER (WHERE status = 'ACCEPTED' AND start_at <= now()) AS visits_365d,
               sum(coalesce(duration_minutes, 0)) FILTER (WHERE status = 'ACCEPTED') AS booked_minutes,
               count(DISTINCT location_id) AS distinct_locations
          FROM recent_bookings GROUP BY organization_id, customer_id
    ),
    payment_stats AS (
        SELECT organization_id, customer_id, count(*) AS payments, sum(total_money_amount) AS gross_cents,
               sum(coalesce(tip_money_amount, 0)) AS tips_cents,
               sum(total_money_amount - coalesce(tip_money_amount, 0)) AS revenue_cents,
               avg(total_money_amount - coalesce(tip_money_amount, 0)) AS avg_ticket,
               max(total_money_amount - coalesce(tip_money_amount, 0)) AS max_ticket,
               min(created_at) AS first_payment, max(created_at) AS last_payment,
               sum(total_money_amount) FILTER (WHERE created_at > (now() - interval '30 days') AT TIME ZONE 'UTC') AS revenue_30d,
               sum(total_money_amount) AS revenue_90d, sum(total_money_amount) AS revenue_365d
          FROM recent_payments GROUP BY organization_id, customer_id
    )
    INSERT INTO peer_customer_analytics
    SELECT c.organization_id, c.square_customer_id, c.given_name, c.family_name, c.email_address,
           c.phone_number, c.created_at,
           b.total_bookings, b.visits, b.upcoming, b.cancelled_by_customer, b.cancelled_by_seller,
           b.no_shows, b.declined, b.first_visit, b.last_visit, b.next_booking, b.visits_30d,
           b.visits_90d, b.visits_365d, b.booked_minutes, b.distinct_locations,
           p.payments, p.gross_cents, p.tips_cents, p.revenue_cents, p.avg_ticket, p.max_ticket,
           p.first_payment, p.last_payment, p.revenue_30d, p.revenue_90d, p.revenue_365d,
           CASE WHEN b.first_visit IS NULL THEN 'PROSPECT'
                WHEN b.first_visit > now() - interval '30 days' THEN 'NEW'
                WHEN b.last_visit > now() - interval '45 days' THEN 'ACTIVE'
                WHEN b.last_visit > now() - interval '90 days' THEN 'AT_RISK'
                ELSE 'LOST' END,
           now()
      FROM square_existing_clients c
      LEFT JOIN booking_stats b ON b.organization_id = c.organization_id AND b.customer_id = c.square_customer_id
      LEFT JOIN payment_stats p ON p.organization_id = c.organization_id AND p.customer_id = c.square_customer_id
    ON CONFLICT (organization_id, square_customer_id) DO UPDATE SET
        given_name = excluded.given_name, family_name = excluded.family_name,
        email_address = excluded.email_address, phone_number = excluded.phone_number,
        total_bookings = excluded.total_bookings, visits = excluded.visits, upcoming = excluded.upcoming,
        cancelled_by_customer = excluded.cancelled_by_customer, cancelled_by_seller = excluded.cancelled_by_seller,
        no_shows = excluded.no_shows, declined = excluded.declined, first_visit = excluded.first_visit,
        last_visit = excluded.last_visit, next_booking = excluded.next_booking, visits_30d = excluded.visits_30d,
        visits_90d = excluded.visits_90d, visits_365d = excluded.visits_365d,
        booked_minutes = excluded.booked_minutes, distinct_locations = excluded.distinct_locations,
        payments = excluded.payments, gross_cents = excluded.gross_cents, tips_cents = excluded.tips_cents,
        revenue_cents = excluded.revenue_cents, avg_ticket = excluded.avg_ticket, max_ticket = excluded.max_ticket,
        first_payment = excluded.first_payment, last_payment = excluded.last_payment,
        revenue_30d = excluded.revenue_30d, revenue_90d = excluded.revenue_90d,
        revenue_365d = excluded.revenue_365d, segment = excluded.segment, updated_at = excluded.updated_at;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;
