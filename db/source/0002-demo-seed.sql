/*
 * zorina_seed_demo(orgs, customers, years, seed) -> text summary
 *
 * Fills the reference source tables with synthetic salon data, set-wise (generate_series, no
 * row-by-row loop), deterministic for a given seed: every random choice is a hash of the
 * seed and the row's key (zorina_seed_random), never random().
 * Dev/demo only: installed with the reference source schema, never in production.
 *
 * What it makes, per organization (time zones alternate US / Europe / none):
 *   3 locations, 5 technicians, 6 services; customers of four kinds:
 *   regulars (every 1-3 weeks), occasionals (every 1-3 months), one-timers, prospects (no visit);
 *   each active over a stretch of the `years` window, so some have lapsed;
 *   bookings in Square's six statuses (plus future ones), notes, payments with tips and
 *   failures, referral codes (some in other case, with spaces, some self-referrals) and
 *   rewards, a few walk-in bookings without a profile.
 */
CREATE OR REPLACE FUNCTION public.zorina_seed_random(key bigint, salt bigint)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(key, salt) & 2147483647)::double precision / 2147483648.0 $$;

CREATE OR REPLACE FUNCTION public.zorina_seed_demo(
    orgs integer DEFAULT 3, customers integer DEFAULT 3000, years integer DEFAULT 3,
    seed integer DEFAULT 42, as_of timestamptz DEFAULT now())
RETURNS text
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    v_per_org integer := greatest(1, customers / greatest(orgs, 1));
    v_history interval := make_interval(years => years);
    v_bookings bigint;
    v_payments bigint;
BEGIN
    IF orgs < 1 OR customers < 0 OR years < 1 THEN
        RAISE EXCEPTION 'orgs and years must be >= 1, customers >= 0 (got %, %, %)', orgs, customers, years
            USING ERRCODE = '22023';
    END IF;

    IF EXISTS (SELECT 1 FROM organizations WHERE id = md5(seed || ':org:1')::uuid) THEN
        RAISE EXCEPTION 'demo data for seed % is already loaded', seed
            USING ERRCODE = '23505', HINT = 'use another seed, or a fresh database';
    END IF;

    INSERT INTO organizations (id, name, settings)
    SELECT md5(seed || ':org:' || o)::uuid,
           (ARRAY['Zorina Salon', 'Studio Lumen', 'Barber & Co', 'Nail Atelier', 'Glow Spa'])[1 + (o - 1) % 5]
               || CASE WHEN o > 5 THEN ' ' || o ELSE '' END,
           CASE o % 3
               WHEN 1 THEN '{"timezone": "America/New_York"}'
               WHEN 2 THEN '{"timezone": "Europe/Berlin"}'
               ELSE '{}' END::jsonb
      FROM generate_series(1, orgs) AS o;

    INSERT INTO locations (id, organization_id, name)
    SELECT md5(seed || ':loc:' || o || ':' || l)::uuid, md5(seed || ':org:' || o)::uuid,
           (ARRAY['Downtown', 'Riverside', 'Old Town'])[l]
      FROM generate_series(1, orgs) AS o, generate_series(1, 3) AS l;

    -- customers: kind by hash (10% regular, 25% occasional, 45% one-timer, 20% prospect)
    CREATE TEMP TABLE seed_customers ON COMMIT DROP AS
    SELECT o, c,
           o::bigint * 100000000 + c AS customer_key,
           md5(seed || ':org:' || o)::uuid AS organization_id,
           'C' || lpad(c::text, 7, '0') AS square_customer_id,
           CASE WHEN zorina_seed_random(o::bigint * 100000000 + c, seed) < 0.10 THEN 'regular'
                WHEN zorina_seed_random(o::bigint * 100000000 + c, seed) < 0.35 THEN 'occasional'
                WHEN zorina_seed_random(o::bigint * 100000000 + c, seed) < 0.80 THEN 'one-timer'
                ELSE 'prospect' END AS kind,
           as_of - v_history * zorina_seed_random(o::bigint * 100000000 + c, seed + 1) AS active_from
      FROM generate_series(1, orgs) AS o, generate_series(1, v_per_org) AS c;

    INSERT INTO square_existing_clients (organization_id, square_customer_id, given_name, family_name,
        email_address, phone_number, created_at, updated_at, activated_as_referrer, personal_code,
        referral_code, used_referral_code, creation_source, acquisition_source)
    SELECT sc.organization_id, sc.square_customer_id,
           (ARRAY['Anna', 'Ben', 'Chloe', 'Dmitri', 'Elif', 'Femi', 'Grace', 'Hugo', 'Ines', 'Jon'])[1 + c % 10],
           (ARRAY['Ivanova', 'Smith', 'Garcia', 'Müller', 'Rossi', 'Kim', 'Okafor', 'Dubois'])[1 + (c / 10) % 8],
           CASE WHEN c % 7 = 0 THEN NULL ELSE 'customer' || c || '@example.com' END,
           -- a few duplicate profiles: same phone, other formatting
           CASE WHEN c % 50 = 1 THEN '(555) 010-' || lpad(((c - 1) % 10000)::text, 4, '0')
                ELSE '+1555010' || lpad((c % 10000)::text, 4, '0') END,
           sc.active_from - interval '3 days', sc.active_from,
           CASE WHEN c % 9 = 0 THEN true WHEN c % 9 = 1 THEN NULL ELSE false END,
           'REF' || sc.o || 'X' || c,
           CASE WHEN c % 4 = 0 THEN 'SHARE' || c END,
           CASE WHEN c % 11 = 0 THEN '  ref' || sc.o || 'x' || greatest(1, c - 5) || ' '   -- other case, spaces
                WHEN c % 97 = 0 THEN 'REF' || sc.o || 'X' || c                            -- self-referral
                WHEN c % 13 = 0 THEN '   ' END,
           (ARRAY['APPOINTMENTS', 'DIRECTORY', 'MERGE', 'THIRD_PARTY'])[1 + c % 4],
           (ARRAY['instagram', 'walk-in', 'google', 'referral', NULL])[1 + c % 5]
      FROM seed_customers sc;

    -- bookings: count and spacing by kind, starting at active_from, some into the future
    INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, technician_id,
        service_variation_id, start_at, status, duration_minutes, customer_note, seller_note,
        created_at, updated_at)
    SELECT sc.organization_id,
           'BK' || sc.o || '-' || sc.c || '-' || n,
           sc.square_customer_id,
           md5(seed || ':loc:' || sc.o || ':' || (1 + (CASE WHEN r1 < 0.7 THEN sc.c ELSE n END) % 3))::uuid,
           CASE WHEN r2 < 0.05 THEN NULL ELSE md5(seed || ':tech:' || sc.o || ':' || (1 + (sc.c + (r2 * 2)::int) % 5))::uuid END,
           CASE WHEN r3 < 0.03 THEN NULL ELSE md5(seed || ':svc:' || sc.o || ':' || (1 + (sc.c + (r3 * 3)::int) % 6))::uuid END,
           slot.start_at,
           CASE WHEN slot.start_at > as_of THEN (CASE WHEN r4 < 0.7 THEN 'ACCEPTED' WHEN r4 < 0.9 THEN 'PENDING' ELSE 'CANCELLED_BY_CUSTOMER' END)
                WHEN r4 < 0.80 THEN 'ACCEPTED'
                WHEN r4 < 0.88 THEN 'CANCELLED_BY_CUSTOMER'
                WHEN r4 < 0.91 THEN 'CANCELLED_BY_SELLER'
                WHEN r4 < 0.95 THEN 'NO_SHOW'
                WHEN r4 < 0.97 THEN 'DECLINED'
                ELSE 'PENDING' END,
           CASE WHEN r5 < 0.1 THEN NULL ELSE 30 + 15 * (n % 5) END,
           CASE WHEN r5 < 0.08 THEN 'Please use the quiet room' WHEN r5 < 0.10 THEN '   ' END,
           CASE WHEN r5 > 0.95 THEN 'Allergic to latex gloves' END,
           slot.start_at - interval '5 days', slot.start_at - interval '5 days'
      FROM seed_customers sc
     CROSS JOIN LATERAL generate_series(1, CASE sc.kind WHEN 'regular' THEN 40 WHEN 'occasional' THEN 12
                                               WHEN 'one-timer' THEN 1 + (sc.c % 2) ELSE 0 END) AS n
     CROSS JOIN LATERAL (SELECT zorina_seed_random(sc.customer_key * 100 + n, seed + 2) AS r1,
                                zorina_seed_random(sc.customer_key * 100 + n, seed + 3) AS r2,
                                zorina_seed_random(sc.customer_key * 100 + n, seed + 4) AS r3,
                                zorina_seed_random(sc.customer_key * 100 + n, seed + 5) AS r4,
                                zorina_seed_random(sc.customer_key * 100 + n, seed + 6) AS r5) AS r
     CROSS JOIN LATERAL (SELECT date_trunc('hour', sc.active_from
                                 + (n - 1) * CASE sc.kind WHEN 'regular' THEN interval '10 days' ELSE interval '45 days' END
                                 + r1 * interval '6 days') AS start_at) AS slot
     WHERE slot.start_at < as_of + interval '60 days';

    -- walk-ins: accepted bookings with no profile, and with an unknown customer id
    INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
    SELECT md5(seed || ':org:' || o)::uuid, 'WALKIN' || o || '-' || w,
           CASE WHEN w % 2 = 0 THEN NULL ELSE 'UNKNOWN' || w END,
           md5(seed || ':loc:' || o || ':1')::uuid, as_of - w * interval '1 day', 'ACCEPTED'
      FROM generate_series(1, orgs) AS o, generate_series(1, 10) AS w;

    -- payments: one per accepted past booking, mostly COMPLETED, tips sometimes NULL
    INSERT INTO payments (organization_id, payment_id, customer_id, booking_id, location_id,
        amount_money_amount, tip_money_amount, total_money_amount, status, created_at, updated_at)
    SELECT b.organization_id, 'PAY-' || b.booking_id, b.customer_id, b.id, b.location_id,
           amount, tip, amount + coalesce(tip, 0),
           CASE WHEN r < 0.92 THEN 'COMPLETED' WHEN r < 0.95 THEN 'FAILED' WHEN r < 0.97 THEN 'CANCELED'
                WHEN r < 0.99 THEN 'APPROVED' ELSE 'PENDING' END,
           (b.start_at + interval '1 hour') AT TIME ZONE 'UTC', (b.start_at + interval '1 hour') AT TIME ZONE 'UTC'
      FROM bookings b
     CROSS JOIN LATERAL (SELECT zorina_seed_random(hashtext(b.booking_id), seed + 7) AS r) AS rr
     CROSS JOIN LATERAL (SELECT (2500 + floor(r * 9000))::integer AS amount,
                                CASE WHEN r < 0.3 THEN NULL ELSE (floor(r * 2000))::integer END AS tip) AS money
     WHERE b.organization_id IN (SELECT DISTINCT organization_id FROM seed_customers)
       AND b.status = 'ACCEPTED' AND b.start_at <= as_of;

    INSERT INTO referral_profiles (organization_id, square_customer_id, personal_code, referral_code, activated_at)
    SELECT sc.organization_id, sc.square_customer_id, 'REF' || sc.o || 'X' || sc.c, NULL,
           CASE WHEN sc.c % 2 = 0 THEN sc.active_from + interval '30 days' END
      FROM seed_customers sc WHERE sc.c % 9 = 0;

    INSERT INTO referral_rewards (organization_id, referrer_customer_id, referred_customer_id,
        reward_amount_cents, status, created_at)
    SELECT sc.organization_id, 'C' || lpad(greatest(1, sc.c - 5)::text, 7, '0'), sc.square_customer_id,
           1000, (ARRAY['PAID', 'PAID', 'PENDING', 'FAILED', 'CANCELLED']::"RewardStatus"[])[1 + sc.c % 5],
           sc.active_from + interval '7 days'
      FROM seed_customers sc WHERE sc.c % 11 = 0;

    SELECT count(*) INTO v_bookings FROM bookings;
    SELECT count(*) INTO v_payments FROM payments;
    RETURN format('%s organizations, %s customers, %s bookings, %s payments',
                  orgs, orgs * v_per_org, v_bookings, v_payments);
END
$$;
