/*
 * zorina_seed_demo(orgs, customers, years, seed) -> text summary
 *
 * Fills the reference source tables with synthetic salon data, set-wise (generate_series, no
 * row-by-row loop), deterministic for a given seed: every random choice is a hash of the
 * seed and the row's key (zorina_seed_random), never random(), and every id and timestamp is
 * derived from the seed, the row's key and as_of (never a column default): the same seed and
 * as_of give the same rows (tests/test_demo.py).
 * Dev/demo only: installed with the reference source schema, never in production.
 *
 * What it makes, per organization (time zones alternate US / Europe / none):
 *   3 locations, 5 technicians, 6 services; customers of four kinds:
 *   regulars (weekly, up to 80 visits), occasionals (every 6-7 weeks), one-timers, prospects
 *   (no visit); ~10 bookings and ~8 payments per customer over 3 years;
 *   each active over a stretch of the `years` window, so some have lapsed;
 *   bookings in Square's six statuses (plus future ones), notes, payments with tips and
 *   failures, referral codes (some in other case, with spaces, some self-referrals) and
 *   rewards, a few walk-in bookings without a profile.
 */
CREATE OR REPLACE FUNCTION public.zorina_seed_random(key bigint, salt bigint)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(key, salt) & 2147483647)::double precision / 2147483648.0 $$;

DROP FUNCTION IF EXISTS public.zorina_seed_demo(integer, integer, integer, integer, timestamptz);

CREATE OR REPLACE FUNCTION public.zorina_seed_demo(
    orgs integer DEFAULT 3, customers integer DEFAULT 3000, years integer DEFAULT 3,
    seed integer DEFAULT 42, as_of timestamptz DEFAULT now(),
    first_org integer DEFAULT 1, last_org integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET TimeZone = 'UTC'
-- the bookings statement's estimates (22M rows for 0.5M) cross the JIT thresholds: compiling it
-- took 1.5 s of each 50k-customer organization, more than it saved
SET jit = off
-- an organization of 50k customers sorts ~0.5M bookings into time order (~220 MB): in memory
-- instead of an external merge through ~190 MB of temporary files
SET work_mem = '256MB'
AS $$
/* Organizations first_org..last_org (default: all) of a data set of `orgs` organizations:
   the CLI calls it one organization at a time to show progress. */
DECLARE
    v_per_org integer := greatest(1, customers / greatest(orgs, 1));
    v_history interval := make_interval(years => years);
    v_last integer := coalesce(last_org, orgs);
    v_bookings bigint;
    v_payments bigint;
    v_customers bigint;
    v_walk_ins bigint;
    v_org record;
BEGIN
    IF orgs < 1 OR customers < 0 OR years < 1 OR first_org < 1 OR v_last > orgs OR first_org > v_last THEN
        RAISE EXCEPTION 'orgs and years must be >= 1, customers >= 0, 1 <= first_org <= last_org <= orgs (got orgs %, customers %, years %, organizations %..%)',
                orgs, customers, years, first_org, v_last
            USING ERRCODE = '22023', HINT = 'e.g. SELECT zorina_seed_demo(3, 10000, 3, 42)';
    END IF;

    IF EXISTS (SELECT 1 FROM organizations WHERE id = md5(seed || ':org:' || first_org)::uuid) THEN
        RAISE EXCEPTION 'demo data for seed % is already loaded', seed
            USING ERRCODE = '23505', HINT = 'use another seed, or a fresh database';
    END IF;

    -- A bulk load: skip foreign-key checks and the pack's change-capture triggers where allowed
    -- (superuser). A never-refreshed organization is recomputed whole by every refresh mode.
    BEGIN
        SET LOCAL session_replication_role = replica;
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;

    INSERT INTO organizations (id, name, settings, created_at, updated_at)
    SELECT md5(seed || ':org:' || o)::uuid,
           (ARRAY['Zorina Salon', 'Studio Lumen', 'Barber & Co', 'Nail Atelier', 'Glow Spa'])[1 + (o - 1) % 5]
               || CASE WHEN o > 5 THEN ' ' || o ELSE '' END,
           CASE o % 3
               WHEN 1 THEN '{"timezone": "America/New_York"}'
               WHEN 2 THEN '{"timezone": "Europe/Berlin"}'
               ELSE '{}' END::jsonb,
           as_of - years * interval '1 year', as_of - years * interval '1 year'
      FROM generate_series(first_org, v_last) AS o;

    INSERT INTO locations (id, organization_id, name)
    SELECT md5(seed || ':loc:' || o || ':' || l)::uuid, md5(seed || ':org:' || o)::uuid,
           (ARRAY['Downtown', 'Riverside', 'Old Town'])[l]
      FROM generate_series(first_org, v_last) AS o, generate_series(1, 3) AS l;

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
      FROM generate_series(first_org, v_last) AS o, generate_series(1, v_per_org) AS c;

    INSERT INTO square_existing_clients (organization_id, square_customer_id, given_name, family_name,
        email_address, phone_number, created_at, updated_at, activated_as_referrer, personal_code,
        referral_code, used_referral_code, creation_source, acquisition_source)
    SELECT sc.organization_id, sc.square_customer_id,
           (ARRAY['Anna', 'Ben', 'Chloe', 'Dmitri', 'Elif', 'Femi', 'Grace', 'Hugo', 'Ines', 'Jon'])[1 + c % 10],
           (ARRAY['Ivanova', 'Smith', 'Garcia', 'Müller', 'Rossi', 'Kim', 'Okafor', 'Dubois'])[1 + (c / 10) % 8],
           CASE WHEN c % 7 = 0 THEN NULL ELSE 'customer' || c || '@example.com' END,
           -- one phone number per customer, but a few duplicate profiles: the previous
           -- customer's number in another format (one in fifty)
           CASE WHEN c % 50 = 2 THEN '(555) ' || substr(lpad((c - 1)::text, 7, '0'), 1, 3) || '-'
                                     || substr(lpad((c - 1)::text, 7, '0'), 4)
                ELSE '+1555' || lpad(c::text, 7, '0') END,
           sc.active_from - interval '3 days', sc.active_from,
           CASE WHEN c % 9 = 0 THEN true WHEN c % 9 = 1 THEN NULL ELSE false END,
           'REF' || sc.o || 'X' || c,
           CASE WHEN c % 4 = 0 THEN 'SHARE' || c END,
           CASE WHEN c % 11 = 0 THEN '  ref' || sc.o || 'x' || greatest(1, c - 11) || ' '  -- chains, other case, spaces
                WHEN c % 97 = 0 THEN 'REF' || sc.o || 'X' || c                            -- self-referral
                WHEN c % 13 = 0 THEN '   ' END,
           (ARRAY['APPOINTMENTS', 'DIRECTORY', 'MERGE', 'THIRD_PARTY'])[1 + c % 4],
           (ARRAY['instagram', 'walk-in', 'google', 'referral', NULL])[1 + c % 5]
      FROM seed_customers sc;

    -- the organization's ids, computed once (not one md5 per booking); booking and payment ids
    -- are the organization's prefix and a counter in insert order (below)
    CREATE TEMP TABLE seed_org_ids ON COMMIT DROP AS
    SELECT o,
           md5(seed || ':org:' || o)::uuid AS organization_id,
           left(md5(seed || ':booking-ids:' || o), 12) AS booking_id_prefix,
           left(md5(seed || ':payment-ids:' || o), 12) AS payment_id_prefix,
           ARRAY(SELECT md5(seed || ':loc:' || o || ':' || k)::uuid FROM generate_series(1, 3) AS k)  AS locations,
           ARRAY(SELECT md5(seed || ':tech:' || o || ':' || k)::uuid FROM generate_series(1, 5) AS k) AS technicians,
           ARRAY(SELECT md5(seed || ':svc:' || o || ':' || k)::uuid FROM generate_series(1, 6) AS k)  AS services
      FROM generate_series(first_org, v_last) AS o;

    -- bookings, count and spacing by kind, starting at active_from, some into the future, stored
    -- in start_at order; and
    -- in the same pass one payment per accepted past booking (mostly COMPLETED, tips sometimes
    -- NULL). One 64-bit hash per booking feeds every random choice (16 bits each), as float8
    -- fractions k / 2^16: exact, as in numeric, whose division and conversion took 14% of an
    -- organization's load; floor(x + 0.5) rounds halves up, as the numeric cast to integer did.
    -- One organization at a time: its ids (14 uuids in arrays) are then the statement's
    -- parameters, not columns carried through the sort with every booking.
    v_bookings := 0;
    v_payments := 0;
    FOR v_org IN SELECT * FROM seed_org_ids ORDER BY o LOOP
        WITH new_bookings AS (
            INSERT INTO bookings (id, organization_id, booking_id, customer_id, location_id, technician_id,
                service_variation_id, start_at, status, duration_minutes, customer_note, seller_note,
                created_at, updated_at)
            -- the id rises in insert order (not md5 or the random default): 10M random keys made the
            -- primary key and the payments' foreign-key checks a random read and write per row: a
            -- quarter of the seed's time at 200k customers (3% at 1M, where the customer-keyed
            -- indexes dominate).
            -- So does the booking_id (and the payment's 'PAY-' || booking_id), for a seeding into
            -- tables with rows, which keeps their indexes (into empty ones `zorina-db seed` builds
            -- them after the load, zorina_seed_defer_indexes below): the unique keys
            -- (organization_id, booking_id) of bookings and (organization_id, payment_id) of payments
            -- are appended to, not written at a random page (by customer, as
            -- 'BK<org>-<customer>-<n>' sorted) per row:
            -- 19-24 s instead of 27-31 s an organization of 50k customers, alternating. The price
            -- there: each organization's keys grow at the end of its range, not of the index, and
            -- such a page splits half-full (PostgreSQL fills only the rightmost page to its
            -- fillfactor): 966 MB instead of 646 MB at 10M bookings (REINDEX packs it).
            -- Deterministic: the counter follows (start_at, customer, n) within the organization;
            -- twelve digits hold any organization's count, so text order is counter order
            SELECT (v_org.booking_id_prefix || lpad(to_hex(row_number() OVER insert_order), 20, '0'))::uuid,
                   sc.organization_id,
                   'BK' || sc.o || '-' || lpad((row_number() OVER insert_order)::text, 12, '0'),
                   sc.square_customer_id,
                   v_org.locations[1 + (CASE WHEN r.r1 < 0.7 THEN sc.c ELSE n END) % 3],
                   CASE WHEN r.r2 < 0.05 THEN NULL ELSE v_org.technicians[1 + (sc.c + floor(r.r2 * 2 + 0.5)::int) % 5] END,
                   CASE WHEN r.r3 < 0.03 THEN NULL ELSE v_org.services[1 + (sc.c + floor(r.r3 * 3 + 0.5)::int) % 6] END,
                   slot.start_at,
                   CASE WHEN slot.start_at > as_of THEN (CASE WHEN r.r4 < 0.7 THEN 'ACCEPTED' WHEN r.r4 < 0.9 THEN 'PENDING'
                                                              ELSE 'CANCELLED_BY_CUSTOMER' END)
                        WHEN r.r4 < 0.80 THEN 'ACCEPTED'
                        WHEN r.r4 < 0.88 THEN 'CANCELLED_BY_CUSTOMER'
                        WHEN r.r4 < 0.91 THEN 'CANCELLED_BY_SELLER'
                        WHEN r.r4 < 0.95 THEN 'NO_SHOW'
                        WHEN r.r4 < 0.97 THEN 'DECLINED'
                        ELSE 'PENDING' END,
                   CASE WHEN r.r5 < 0.1 THEN NULL ELSE 30 + 15 * (n % 5) END,
                   CASE WHEN r.r5 < 0.08 THEN 'Please use the quiet room' WHEN r.r5 < 0.10 THEN '   ' END,
                   CASE WHEN r.r5 > 0.95 THEN 'Allergic to latex gloves' END,
                   slot.start_at - interval '5 days', slot.start_at - interval '5 days'
              FROM seed_customers sc
             CROSS JOIN LATERAL generate_series(1, CASE sc.kind WHEN 'regular' THEN 80 WHEN 'occasional' THEN 18
                                                       WHEN 'one-timer' THEN 1 + (sc.c % 2) ELSE 0 END) AS n
             CROSS JOIN LATERAL (SELECT hashint8extended(sc.customer_key * 100 + n, seed) AS h) AS hashed
             CROSS JOIN LATERAL (SELECT (hashed.h & 65535) / 65536.0::float8          AS r1,
                                        ((hashed.h >> 16) & 65535) / 65536.0::float8  AS r2,
                                        ((hashed.h >> 32) & 65535) / 65536.0::float8  AS r3,
                                        ((hashed.h >> 48) & 255) / 256.0::float8      AS r4,
                                        ((hashed.h >> 56) & 255) / 256.0::float8      AS r5) AS r
             CROSS JOIN LATERAL (SELECT date_trunc('hour', sc.active_from
                                         + (n - 1) * CASE sc.kind WHEN 'regular' THEN interval '7 days' ELSE interval '45 days' END
                                         + r.r1 * interval '6 days') AS start_at) AS slot
             WHERE sc.o = v_org.o AND slot.start_at < as_of + interval '60 days'
            WINDOW insert_order AS (ORDER BY slot.start_at, sc.c, n)
             -- in time order, as a booking table fills in production (a sync appends as salons book):
             -- a range of days is then a range of pages, not one page per customer; the same order
             -- as the ids' counter (one sort)
             ORDER BY slot.start_at, sc.c, n
            RETURNING id, organization_id, booking_id, customer_id, location_id, start_at, status,
                      hashtext(booking_id) AS pay_hash
        ),
        new_payments AS (
            INSERT INTO payments (id, organization_id, payment_id, customer_id, booking_id, location_id,
                amount_money_amount, tip_money_amount, total_money_amount, status, created_at, updated_at)
            -- the payment's id: the organization's payment prefix and its booking's counter (rising too)
            SELECT (v_org.payment_id_prefix || right(replace(b.id::text, '-', ''), 20))::uuid,
                   b.organization_id, 'PAY-' || b.booking_id, b.customer_id, b.id, b.location_id,
                   money.amount, money.tip, money.amount + coalesce(money.tip, 0),
                   CASE WHEN pay.r_status < 0.92 THEN 'COMPLETED' WHEN pay.r_status < 0.95 THEN 'FAILED'
                        WHEN pay.r_status < 0.97 THEN 'CANCELED' WHEN pay.r_status < 0.99 THEN 'APPROVED' ELSE 'PENDING' END,
                   (b.start_at + interval '1 hour') AT TIME ZONE 'UTC', (b.start_at + interval '1 hour') AT TIME ZONE 'UTC'
              FROM new_bookings b
             -- status, amount and tip each from their own ten bits of the booking's hash: a cheap
             -- service is tipped as often as a dear one, a failed payment can be of any amount
             CROSS JOIN LATERAL (SELECT (b.pay_hash & 1023) / 1024.0::float8         AS r_status,
                                        ((b.pay_hash >> 10) & 1023) / 1024.0::float8 AS r_amount,
                                        ((b.pay_hash >> 20) & 1023) / 1024.0::float8 AS r_tip) AS pay
             CROSS JOIN LATERAL (SELECT (2500 + floor(pay.r_amount * 9000))::integer AS amount,
                                        CASE WHEN pay.r_tip < 0.3 THEN NULL
                                             ELSE (floor(pay.r_tip * 2000))::integer END AS tip) AS money
             WHERE b.status = 'ACCEPTED' AND b.start_at <= as_of
            RETURNING 1
        )
        -- counted as inserted: counting the organizations' rows afterwards reads every booking when
        -- the seeding runs without the tables' indexes (zorina_seed_defer_indexes)
        SELECT v_bookings + (SELECT count(*) FROM new_bookings), v_payments + (SELECT count(*) FROM new_payments)
          INTO v_bookings, v_payments;
    END LOOP;

    -- walk-ins: accepted bookings with no profile, and with an unknown customer id
    INSERT INTO bookings (id, organization_id, booking_id, customer_id, location_id, start_at, status,
                          created_at, updated_at)
    SELECT md5(seed || ':walkin:' || ids.o || '-' || w)::uuid, md5(seed || ':org:' || ids.o)::uuid,
           'WALKIN' || ids.o || '-' || w,
           CASE WHEN w % 2 = 0 THEN NULL ELSE 'UNKNOWN' || w END,
           ids.locations[1], as_of - w * interval '1 day', 'ACCEPTED',
           as_of - w * interval '1 day', as_of - w * interval '1 day'
      FROM seed_org_ids ids, generate_series(1, 10) AS w;
    GET DIAGNOSTICS v_walk_ins = ROW_COUNT;

    INSERT INTO referral_profiles (organization_id, square_customer_id, personal_code, referral_code, activated_at)
    SELECT sc.organization_id, sc.square_customer_id, 'REF' || sc.o || 'X' || sc.c, NULL,
           CASE WHEN sc.c % 2 = 0 THEN sc.active_from + interval '30 days' END
      FROM seed_customers sc WHERE sc.c % 9 = 0;

    INSERT INTO referral_rewards (id, organization_id, referrer_customer_id, referred_customer_id,
        reward_amount_cents, status, created_at)
    SELECT md5(seed || ':reward:' || sc.o || ':' || sc.c)::uuid, sc.organization_id, 'C' || lpad(greatest(1, sc.c - 11)::text, 7, '0'), sc.square_customer_id,
           1000, (ARRAY['PAID', 'PAID', 'PENDING', 'FAILED', 'CANCELLED']::"RewardStatus"[])[1 + sc.c % 5],
           sc.active_from + interval '7 days'
      FROM seed_customers sc WHERE sc.c % 11 = 0;

    SELECT count(*) INTO v_customers FROM seed_customers;
    RETURN format('%s organizations, %s customers, %s bookings, %s payments',
                  v_last - first_org + 1, v_customers, v_bookings + v_walk_ins, v_payments);
END
$$;

/*
 * zorina_seed_defer_indexes() -> integer      indexes dropped until the load is done
 * zorina_seed_restore_index(index_name) -> void / zorina_seed_restore_indexes() -> integer
 *
 * A bulk load into empty tables is faster without their indexes, each built once afterwards
 * by one sort (PostgreSQL's own advice, "Populating a Database"): at 50k customers an
 * organization spent half its time inserting into the ten indexes of bookings and payments,
 * each booking a descent and a random page write in the customer- and location-keyed ones.
 * Deferred: every index of bookings and payments but the primary keys (a foreign key leans on
 * bookings' and the ids rise, so they are appended to) and any index a foreign key leans on;
 * a unique key's constraint is dropped and added again (the same name and definition, its
 * comment too). Only when both tables hold no row: the indexes of a table with data, a
 * salon's or an earlier seeding's, are never touched.
 * What was dropped waits in zorina_seed_deferred_indexes, committed, until it is built again:
 * a seeding that fails or is killed leaves the statements there, and the next `zorina-db seed`
 * (or `SELECT zorina_seed_restore_indexes()`) builds them. Dev/demo only, like the generator.
 */
CREATE TABLE IF NOT EXISTS public.zorina_seed_deferred_indexes (
    index_name        text PRIMARY KEY,
    table_name        text NOT NULL,
    build_statement   text NOT NULL,   -- CREATE INDEX ... or ALTER TABLE ... ADD CONSTRAINT ...
    comment_statement text             -- COMMENT ON ..., when the index or constraint had one
);

CREATE OR REPLACE FUNCTION public.zorina_seed_defer_indexes()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_index record;
    v_deferred integer := 0;
BEGIN
    -- a seeding elsewhere holds no lock that would keep the tables empty: take one for the check
    LOCK TABLE public.bookings, public.payments IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT FROM public.bookings) OR EXISTS (SELECT FROM public.payments) THEN
        RETURN 0;
    END IF;
    FOR v_index IN
        SELECT i.indexrelid::regclass::text AS index_name, i.indrelid::regclass::text AS table_name,
               CASE WHEN con.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
                    ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::regclass, con.conname,
                                pg_get_constraintdef(con.oid)) END AS build_statement,
               CASE WHEN con.oid IS NULL THEN format('DROP INDEX %s', i.indexrelid::regclass)
                    ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', i.indrelid::regclass, con.conname) END AS drop_statement,
               CASE WHEN described.comment IS NULL THEN NULL
                    WHEN con.oid IS NULL THEN format('COMMENT ON INDEX %s IS %L', i.indexrelid::regclass, described.comment)
                    ELSE format('COMMENT ON CONSTRAINT %I ON %s IS %L', con.conname, i.indrelid::regclass,
                                described.comment) END AS comment_statement
          FROM pg_index i
          LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                                     AND con.contype IN ('u', 'x')
         CROSS JOIN LATERAL (SELECT CASE WHEN con.oid IS NULL THEN obj_description(i.indexrelid, 'pg_class')
                                         ELSE obj_description(con.oid, 'pg_constraint') END AS comment) AS described
         WHERE i.indrelid IN ('public.bookings'::regclass, 'public.payments'::regclass)
           AND NOT i.indisprimary
           AND NOT EXISTS (SELECT FROM pg_constraint fk WHERE fk.contype = 'f' AND fk.conindid = i.indexrelid)
         ORDER BY 2, 1
    LOOP
        INSERT INTO public.zorina_seed_deferred_indexes (index_name, table_name, build_statement, comment_statement)
        VALUES (v_index.index_name, v_index.table_name, v_index.build_statement, v_index.comment_statement);
        EXECUTE v_index.drop_statement;
        v_deferred := v_deferred + 1;
    END LOOP;
    RETURN v_deferred;
END
$$;

CREATE OR REPLACE FUNCTION public.zorina_seed_restore_index(index_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_deferred public.zorina_seed_deferred_indexes;
BEGIN
    DELETE FROM public.zorina_seed_deferred_indexes d WHERE d.index_name = zorina_seed_restore_index.index_name
    RETURNING * INTO v_deferred;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no index % is waiting to be built', zorina_seed_restore_index.index_name
            USING ERRCODE = '22023', HINT = 'SELECT index_name FROM zorina_seed_deferred_indexes lists them';
    END IF;
    EXECUTE v_deferred.build_statement;
    IF v_deferred.comment_statement IS NOT NULL THEN
        EXECUTE v_deferred.comment_statement;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION public.zorina_seed_restore_indexes()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_index_name text;
    v_built integer := 0;
BEGIN
    FOR v_index_name IN SELECT d.index_name FROM public.zorina_seed_deferred_indexes d ORDER BY d.table_name, d.index_name
    LOOP
        PERFORM public.zorina_seed_restore_index(v_index_name);
        v_built := v_built + 1;
    END LOOP;
    RETURN v_built;
END
$$;
