"""The main job end to end: `zorina-db demo` on an embedded cluster of its own."""

import psycopg
import pytest
from click.testing import CliRunner

from conftest import seeded_database
from deployer.cli import main
from deployer.embedded import EmbeddedCluster


def test_demo_runs_end_to_end_and_prints_the_kpi_summary(server_tmp, monkeypatch):
    tmp_path = server_tmp
    monkeypatch.setenv("ZORINA_HOME", str(tmp_path / ".zorina"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    try:
        result = CliRunner().invoke(main, ["demo", "--customers", "600", "--orgs", "2"])
        assert result.exit_code == 0, result.output
        out = result.stdout
        for heading in ("Customers per segment", "New customers in the last 30 days per location",
                        "Top 5 customers by revenue", "Last refresh"):
            assert heading in out
        assert "customers recomputed 600, inserted 600" in out
        assert "completed" in out
    finally:
        EmbeddedCluster(tmp_path / ".zorina").destroy()


def _source_fingerprint(dsn: str) -> dict:
    """A hash per source table of every generated value, the surrogate `id`s included (the
    generator derives every id from the seed, none is left to gen_random_uuid())."""
    fingerprints = {}
    with psycopg.connect(dsn) as conn:
        for table in ("organizations", "locations", "square_existing_clients", "bookings", "payments",
                      "referral_profiles", "referral_rewards"):
            columns = [row[0] for row in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                " AND NOT attisdropped ORDER BY attnum", [f"public.{table}"])]
            row_text = "concat_ws('|', " + ", ".join(f'"{column}"::text' for column in columns) + ")"
            fingerprints[table] = conn.execute(
                f"SELECT md5(string_agg({row_text}, E'\\n' ORDER BY {row_text})) FROM public.{table}").fetchone()[0]
    return fingerprints


def test_seed_is_deterministic_for_a_seed_and_an_as_of(new_database):
    """`zorina-db seed` twice with the same --seed and --as-of: the same rows, table for table;
    another seed gives other rows (so the comparison can fail)."""
    def seeded(seed: int) -> dict:
        return _source_fingerprint(seeded_database(new_database, organizations=2, customers=300, seed=seed))

    first = seeded(7)
    assert seeded(7) == first
    other = seeded(8)
    assert other["bookings"] != first["bookings"] and other["square_existing_clients"] != first["square_existing_clients"]


def test_seeded_booking_and_payment_ids_rise_in_the_order_the_rows_are_generated(new_database):
    """The generator's booking ids are the organization's prefix and a counter in (start_at,
    customer) order, a payment's id its booking's counter: inserts append to both primary keys
    instead of writing a random page each (a quarter of the seed's time at 200k customers).
    The booking_id and payment_id texts follow the same counter, so a seeding into tables with
    rows (which keep their indexes) appends to the unique (organization_id, booking_id /
    payment_id) keys as well (a quarter of an organization's time at 50k customers); unique."""
    dsn = seeded_database(new_database, organizations=2, customers=2000, seed=11)
    with psycopg.connect(dsn) as conn:
        bookings_out_of_order, booking_ids_out_of_order, generated, distinct_booking_ids = conn.execute("""
            SELECT count(*) FILTER (WHERE id <= previous),
                   count(*) FILTER (WHERE booking_id COLLATE "C" <= previous_booking_id COLLATE "C"),
                   count(*), count(DISTINCT (organization_id, booking_id))
              FROM (SELECT id, booking_id,
                           lag(id) OVER by_generation AS previous,
                           lag(booking_id) OVER by_generation AS previous_booking_id,
                           organization_id
                      FROM bookings WHERE booking_id LIKE 'BK%'
                    WINDOW by_generation AS (PARTITION BY organization_id ORDER BY start_at, customer_id)) AS b""").fetchone()
        payments_out_of_order, payment_ids_out_of_order, paid, distinct_ids = conn.execute("""
            SELECT count(*) FILTER (WHERE id <= previous),
                   count(*) FILTER (WHERE payment_id COLLATE "C" <= previous_payment_id COLLATE "C"),
                   count(*), count(DISTINCT id)
              FROM (SELECT id, payment_id,
                           lag(id) OVER by_booking AS previous,
                           lag(payment_id) OVER by_booking AS previous_payment_id
                      FROM payments
                    WINDOW by_booking AS (PARTITION BY organization_id ORDER BY booking_id)) AS p""").fetchone()
    assert generated > 10000 and paid > 5000
    assert bookings_out_of_order == 0 and payments_out_of_order == 0
    assert booking_ids_out_of_order == 0 and payment_ids_out_of_order == 0
    assert distinct_ids == paid and distinct_booking_ids == generated


def test_seed_refuses_a_bad_as_of_in_one_line(new_database):
    dsn = new_database(template=True)
    result = CliRunner().invoke(main, ["seed", "--dsn", dsn, "--as-of", "yesterday-ish"])
    assert result.exit_code != 0
    assert "yesterday-ish" in result.output and "Traceback" not in result.output
    assert _source_fingerprint(dsn)["bookings"] is None     # nothing written


def test_seeded_data_has_what_a_salon_chain_has(new_database):
    """The realistic features issue 5 lists, counted on a small seeding (shares loosely: the
    generator is random, but deterministic for this seed)."""
    # 12,000 customers an organization: past 10,000, where an earlier generator gave most of
    # them a shared phone number
    dsn = seeded_database(new_database, organizations=2, customers=24000, seed=11, years=2)
    with psycopg.connect(dsn) as conn:
        def one(sql):
            return conn.execute(sql).fetchone()

        zones = {row[0] for row in conn.execute("SELECT settings::jsonb ->> 'timezone' FROM organizations")}
        assert any(zone.startswith("America/") for zone in zones) and any(zone.startswith("Europe/") for zone in zones)
        assert one("SELECT min(n) FROM (SELECT count(*) AS n FROM locations GROUP BY organization_id) x")[0] >= 2
        assert one("SELECT count(DISTINCT technician_id), count(DISTINCT service_variation_id) FROM bookings") >= (5, 5)
        # every status, accepted the most; bookings ahead of as_of
        shares = dict(conn.execute("SELECT status::text, count(*)::float / sum(count(*)) OVER () FROM bookings GROUP BY 1"))
        assert set(shares) >= {"ACCEPTED", "PENDING", "CANCELLED_BY_CUSTOMER", "CANCELLED_BY_SELLER", "NO_SHOW", "DECLINED"}
        assert 0.6 < shares["ACCEPTED"] < 0.9
        assert one("SELECT count(*) FROM bookings WHERE start_at > '2026-06-15 12:00+00'")[0] > 0
        # weekly regulars, one-time customers and profiles that never booked
        visits = [row[0] for row in conn.execute(
            """SELECT count(b.id) FROM square_existing_clients c
                 LEFT JOIN bookings b ON b.organization_id = c.organization_id AND b.customer_id = c.square_customer_id
                GROUP BY c.organization_id, c.square_customer_id""")]
        assert sum(v >= 50 for v in visits) > 0.03 * len(visits)
        assert sum(1 <= v <= 2 for v in visits) > 0.25 * len(visits)
        assert sum(v == 0 for v in visits) > 0.1 * len(visits)
        # notes, tips, failed and cancelled payments, referrals
        assert one("SELECT count(*) FILTER (WHERE btrim(customer_note) <> ''), count(*) FILTER (WHERE seller_note <> '') FROM bookings") > (0, 0)
        assert one("SELECT count(*) FROM payments WHERE status = 'FAILED'")[0] > 0
        assert one("SELECT count(*) FROM payments WHERE status = 'CANCELED'")[0] > 0
        assert one("SELECT count(*) FROM square_existing_clients WHERE btrim(used_referral_code) <> ''")[0] > 0
        assert one("SELECT count(*) FROM referral_rewards WHERE status = 'PAID'")[0] > 0
        # tips, amounts and statuses independent: cheap services tipped as often as dear ones,
        # failed payments of every size
        cheap, dear = one("""SELECT avg((tip_money_amount IS NOT NULL)::int) FILTER (WHERE amount_money_amount < 7000),
                                    avg((tip_money_amount IS NOT NULL)::int) FILTER (WHERE amount_money_amount >= 7000)
                               FROM payments WHERE status = 'COMPLETED'""")
        assert 0.6 < cheap < 0.8 and 0.6 < dear < 0.8
        assert one("SELECT min(amount_money_amount) < 4000 AND max(amount_money_amount) > 9000 FROM payments WHERE status = 'FAILED'")[0]
        # a few duplicate profiles: the same number in another format, not thousands
        profiles, duplicated = one("""
            SELECT sum(n)::int, (sum(n) FILTER (WHERE n > 1))::int
              FROM (SELECT count(*) AS n FROM square_existing_clients WHERE phone_number IS NOT NULL
                     GROUP BY organization_id, right(regexp_replace(phone_number, '[^0-9]', '', 'g'), 7)) x""")
        assert 0.01 * profiles < duplicated < 0.06 * profiles
        assert one("""SELECT bool_and(formats > 1) FROM (
                        SELECT count(DISTINCT phone_number) AS formats FROM square_existing_clients
                         WHERE phone_number IS NOT NULL
                         GROUP BY organization_id, right(regexp_replace(phone_number, '[^0-9]', '', 'g'), 7)
                        HAVING count(*) > 1) x""")[0]
        # bookings with no profile: no customer id, or one no profile has
        assert one("SELECT count(*) FROM bookings WHERE customer_id IS NULL")[0] > 0
        assert one("""SELECT count(*) FROM bookings b WHERE b.customer_id IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM square_existing_clients c
                         WHERE c.organization_id = b.organization_id AND c.square_customer_id = b.customer_id)""")[0] > 0


def _bookings_and_payments_indexes(conn) -> dict:
    """Per index of bookings and payments: its oid (a new one when it was built again), its
    definition, the constraint it backs and both comments."""
    return {row[0]: row[1:] for row in conn.execute("""
        SELECT i.indexrelid::regclass::text, i.indexrelid::oid, pg_get_indexdef(i.indexrelid),
               con.conname, pg_get_constraintdef(con.oid), obj_description(i.indexrelid, 'pg_class'),
               obj_description(con.oid, 'pg_constraint')
          FROM pg_index i LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
         WHERE i.indrelid IN ('public.bookings'::regclass, 'public.payments'::regclass)""")}


def _index_definitions(conn) -> dict:
    """The same without the oids: what a rebuilt index must have as it had before."""
    return {name: row[1:] for name, row in _bookings_and_payments_indexes(conn).items()}


def _seed(dsn: str, seed: int, orgs: int = 2, jobs: int = 2):
    return CliRunner().invoke(main, ["seed", "--dsn", dsn, "--orgs", str(orgs), "--customers", str(200 * orgs),
                                     "--jobs", str(jobs), "--seed", str(seed), "--as-of", "2026-06-15 12:00+00"])


def test_seed_loads_empty_tables_without_their_indexes_and_builds_them_again(new_database):
    """Into empty bookings and payments the generator loads without their indexes (half its
    time at 50k customers went into them) and builds each again after: the same definitions,
    constraints and comments, new oids. Into tables with rows it touches no index."""
    dsn = new_database(template=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("COMMENT ON INDEX bookings_organization_customer_idx IS 'who booked'")
        conn.execute("COMMENT ON CONSTRAINT payments_organization_id_payment_id_key ON payments IS 'one per id'")
        before = _bookings_and_payments_indexes(conn)

        first = _seed(dsn, seed=7)
        assert first.exit_code == 0, first.output
        after_first = _bookings_and_payments_indexes(conn)
        rebuilt = {name for name in before if after_first[name][0] != before[name][0]}
        assert rebuilt == set(before) - {"bookings_pkey", "payments_pkey"}   # deferred: all but the keys
        assert {name: row[1:] for name, row in after_first.items()} == {name: row[1:] for name, row in before.items()}
        assert after_first["bookings_organization_customer_idx"][4] == "who booked"
        assert after_first["payments_organization_id_payment_id_key"][5] == "one per id"
        assert f"loading without {len(rebuilt)} indexes" in first.output
        assert conn.execute("SELECT count(*) FROM zorina_seed_deferred_indexes").fetchone()[0] == 0

        second = _seed(dsn, seed=8)
        assert second.exit_code == 0, second.output
        assert _bookings_and_payments_indexes(conn) == after_first      # not one index dropped
        assert "loading without" not in second.output


def test_a_failed_seeding_builds_its_deferred_indexes_again(new_database):
    """The second organization's seeding fails (its organization is already there): the command
    fails in one line, no organization starts after it, and the indexes dropped for the load are
    there again, as they were."""
    dsn = new_database(template=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        before = _index_definitions(conn)
        conn.execute("INSERT INTO organizations (id, name) VALUES (md5('9:org:2')::uuid, 'in the way')")
        failed = _seed(dsn, seed=9, orgs=3, jobs=1)
        assert failed.exit_code != 0 and "already loaded" in failed.output
        assert "Traceback" not in failed.output
        seeded_organizations = {row[0] for row in conn.execute(
            "SELECT o FROM generate_series(1, 3) AS o"
            " WHERE EXISTS (SELECT FROM bookings WHERE organization_id = md5('9:org:' || o)::uuid)")}
        assert seeded_organizations == {1}
        assert _index_definitions(conn) == before
        assert conn.execute("SELECT count(*) FROM zorina_seed_deferred_indexes").fetchone()[0] == 0


def test_deferred_indexes_left_by_a_killed_seeding_are_built_by_the_next(new_database):
    """A seeding killed mid-load leaves its statements in zorina_seed_deferred_indexes: the next
    `zorina-db seed` builds them after its own load, or zorina_seed_restore_indexes() by hand;
    an unknown name is refused by name."""
    dsn = new_database(template=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        before = _index_definitions(conn)
        assert conn.execute("SELECT zorina_seed_defer_indexes()").fetchone()[0] == len(before) - 2
        assert set(_bookings_and_payments_indexes(conn)) == {"bookings_pkey", "payments_pkey"}
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="no index nope is waiting"):
            conn.execute("SELECT zorina_seed_restore_index('nope')")
        # what a DBA runs by hand: every waiting index built, as it was
        assert conn.execute("SELECT zorina_seed_restore_indexes()").fetchone()[0] == len(before) - 2
        assert _index_definitions(conn) == before
        assert conn.execute("SELECT zorina_seed_defer_indexes()").fetchone()[0] == len(before) - 2
        killed_then_again = _seed(dsn, seed=10)
        assert killed_then_again.exit_code == 0, killed_then_again.output
        assert _index_definitions(conn) == before
