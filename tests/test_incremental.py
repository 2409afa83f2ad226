"""incremental and recent equal full (contract section 4), whatever changed and however time moved.

The check: after an incremental/recent refresh at as_of T, a full refresh at the same T must
find nothing to write. A full refresh writes exactly the rows whose values differ from what
customer_analytics_compute returns (proven equal to the independent reference elsewhere), so
"writes nothing, not even one RFM score" means the table was already cell-for-cell the result
of full. The physical row versions (xmin) are compared too.
"""

import random
import re
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from builder import SourceData, ts
from conftest import capture_plans, customer_row, load, refresh, segment_counts, table_rows
from randomdata import generate

BASE_AS_OF = datetime(2025, 9, 1, 12, 0, tzinfo=timezone.utc)
STATUSES = ["ACCEPTED", "ACCEPTED", "ACCEPTED", "PENDING", "CANCELLED_BY_CUSTOMER",
            "CANCELLED_BY_SELLER", "NO_SHOW", "DECLINED"]
PAYMENT_STATUSES = ["COMPLETED", "COMPLETED", "FAILED", "CANCELED", "APPROVED"]


def versions(conn):
    return {r["key"]: r["v"] for r in conn.execute(
        "SELECT organization_id::text || '/' || square_customer_id AS key, xmin::text AS v FROM customer_analytics")}


def assert_equals_full(conn, as_of):
    stored, counted = segment_counts(conn)
    assert stored == counted, "the segment summary disagrees with the table"
    stored_boundaries = rfm_boundaries(conn)
    assert stored_boundaries == [b for b in current_rfm_boundaries(conn)
                                 if (b["organization_id"], b["score"]) in
                                 {(s["organization_id"], s["score"]) for s in stored_boundaries}], \
        "stored RFM boundaries disagree with the rows"
    before = versions(conn)
    full = refresh(conn, "full", as_of=as_of)
    assert (full["rows_inserted"], full["rows_updated"], full["rows_deleted"]) == (0, 0, 0), full
    assert versions(conn) == before, "a full refresh at the same as_of rewrote rows (RFM?)"


def rfm_boundaries(conn):
    return conn.execute("""SELECT organization_id, score, ranked_customers, boundary_values, boundary_customers
                             FROM zorina.rfm_boundaries ORDER BY 1, 2""").fetchall()


def current_rfm_boundaries(conn):
    """What every organization with stored rows ranks like now (zorina.rfm_current_boundaries)."""
    return conn.execute("""SELECT o.organization_id, b.*
                             FROM (SELECT DISTINCT organization_id FROM customer_analytics) AS o,
                                  zorina.rfm_current_boundaries(o.organization_id) AS b
                            ORDER BY 1, 2""").fetchall()


def pick(rng, rows, k):
    return rng.sample(rows, min(k, len(rows)))


def random_changes(conn, rng: random.Random, as_of: datetime) -> None:
    """One batch of the writes a booking platform makes, chosen by rng."""
    orgs = [r["id"] for r in conn.execute("SELECT id FROM organizations ORDER BY id")]
    customers = [(r["organization_id"], r["square_customer_id"]) for r in conn.execute(
        "SELECT organization_id, square_customer_id FROM square_existing_clients ORDER BY 1, 2")]
    locations = {r["organization_id"]: r["id"] for r in conn.execute(
        "SELECT DISTINCT ON (organization_id) organization_id, id FROM locations ORDER BY organization_id, id")}
    bookings = [r["id"] for r in conn.execute("SELECT id FROM bookings ORDER BY id")]
    payments = [r["id"] for r in conn.execute("SELECT id FROM payments ORDER BY id")]
    tag = rng.getrandbits(40)

    # inserts: new bookings, some starting years ago (late sync), some in the future
    for n, (org, customer) in enumerate(pick(rng, customers, 12)):
        offset = rng.choice([-900, -400, -100, -31, -1, 0.01, 2, 20])
        conn.execute(
            """INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status,
                                     technician_id, customer_note)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            [org, f"NEW-{tag}-{n}", customer, locations[org], as_of + timedelta(days=offset),
             rng.choice(STATUSES), uuid.UUID(int=rng.getrandbits(128)), rng.choice([None, "new note", "  "])])
        if rng.random() < 0.6:
            amount = rng.randint(100, 20000)
            tip = rng.choice([None, 0, rng.randint(1, 3000)])
            conn.execute(
                """INSERT INTO payments (organization_id, payment_id, customer_id, location_id, amount_money_amount,
                                         tip_money_amount, total_money_amount, status, created_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [org, f"NEWPAY-{tag}-{n}", customer, locations[org], amount, tip, amount + (tip or 0),
                 rng.choice(PAYMENT_STATUSES), (as_of + timedelta(days=rng.choice([-400, -35, -2, 1]))).replace(tzinfo=None)])
    # updates of status, start_at, customer (a row moving between customers), amounts
    for booking in pick(rng, bookings, 10):
        conn.execute("UPDATE bookings SET status = %s WHERE id = %s", [rng.choice(STATUSES), booking])
    for booking in pick(rng, bookings, 6):
        conn.execute("UPDATE bookings SET start_at = start_at + %s WHERE id = %s",
                     [timedelta(days=rng.choice([-60, -3, 3, 45])), booking])
    for booking in pick(rng, bookings, 6):
        org = conn.execute("SELECT organization_id FROM bookings WHERE id = %s", [booking]).fetchone()["organization_id"]
        same_org = [c for o, c in customers if o == org]
        conn.execute("UPDATE bookings SET customer_id = %s WHERE id = %s", [rng.choice(same_org), booking])
    for payment in pick(rng, payments, 8):
        conn.execute("""UPDATE payments SET total_money_amount = amount_money_amount + coalesce(tip_money_amount, 0) + %s,
                               amount_money_amount = amount_money_amount + %s, status = %s WHERE id = %s""",
                     [0, rng.randint(-50, 50), rng.choice(PAYMENT_STATUSES), payment])
    # deletes
    conn.execute("DELETE FROM bookings WHERE id = ANY(%s)", [pick(rng, bookings, 5)])
    conn.execute("DELETE FROM payments WHERE id = ANY(%s)", [pick(rng, payments, 4)])
    for org, customer in pick(rng, customers, 2):
        conn.execute("DELETE FROM square_existing_clients WHERE organization_id = %s AND square_customer_id = %s",
                     [org, customer])
    # referral changes: codes move, new profiles use them, rewards get paid
    for n, (org, customer) in enumerate(pick(rng, customers, 3)):
        conn.execute("UPDATE square_existing_clients SET personal_code = %s WHERE organization_id = %s AND square_customer_id = %s",
                     [f"MOVED{tag % 1000}{n}", org, customer])
        conn.execute("""INSERT INTO square_existing_clients (organization_id, square_customer_id, used_referral_code, created_at)
                        VALUES (%s, %s, %s, %s)""", [org, f"NEWC{tag}{n}", f" moved{tag % 1000}{n} ", as_of])
        conn.execute("""INSERT INTO referral_rewards (organization_id, referrer_customer_id, referred_customer_id,
                                                      reward_amount_cents, status) VALUES (%s, %s, %s, %s, 'PAID')""",
                     [org, customer, f"NEWC{tag}{n}", rng.randint(100, 900)])
    conn.execute("UPDATE referral_rewards SET status = 'PAID' WHERE id = ANY(%s)", [pick(rng, [r["id"] for r in conn.execute(
        "SELECT id FROM referral_rewards WHERE status <> 'PAID' ORDER BY id")], 2)])
    for org, customer in pick(rng, customers, 2):
        conn.execute("""INSERT INTO referral_profiles (organization_id, square_customer_id, activated_at)
                        VALUES (%s, %s, %s) ON CONFLICT (organization_id, square_customer_id)
                        DO UPDATE SET activated_at = excluded.activated_at""", [org, customer, as_of - timedelta(days=3)])
    if rng.random() < 0.3:  # an organization changes its time zone or thresholds
        conn.execute("""UPDATE organizations SET settings = settings || %s::jsonb WHERE id = %s""",
                     ['{"timezone": "Asia/Tokyo", "segment_active_days": 50}', rng.choice(orgs)])


@pytest.mark.parametrize("seed, mode", [(101, "incremental"), (202, "incremental"), (303, "recent"), (404, "incremental")])
def test_incremental_equals_full_after_random_changes(conn, seed, mode):
    rng = random.Random(seed)
    load(conn, generate(seed, BASE_AS_OF, n_orgs=3, customers_per_org=150))
    refresh(conn, "full", as_of=BASE_AS_OF)
    as_of = BASE_AS_OF
    for batch in range(6):
        random_changes(conn, rng, as_of)
        as_of += rng.choice([timedelta(minutes=5), timedelta(hours=1), timedelta(days=1, hours=3),
                             timedelta(days=31), timedelta(days=95)])
        result = refresh(conn, mode, as_of=as_of)
        assert result["skipped"] is False
        assert conn.execute("SELECT count(*) AS n FROM zorina.dirty_keys").fetchone()["n"] == 0
        assert_equals_full(conn, as_of)


def test_rfm_from_stored_boundaries_equals_full_over_many_small_refreshes(conn):
    # the usual incremental run: a few customers changed, minutes since the last run. The RFM
    # scores then come from the boundaries the run before stored (zorina.rfm_moves_from_boundaries),
    # run after run, never re-ranked whole: each run must still equal a full refresh, and leave
    # boundaries that the next run can start from
    rng = random.Random(808)
    load(conn, generate(808, BASE_AS_OF, n_orgs=2, customers_per_org=300))
    refresh(conn, "full", as_of=BASE_AS_OF)
    orgs = [r["id"] for r in conn.execute("SELECT id FROM organizations ORDER BY id")]
    conn.execute("SELECT zorina.refresh_rfm(%s::uuid[], jsonb_build_object(%s::text, '[]'::jsonb, %s::text, '[]'::jsonb))",
                 [orgs, orgs[0], orgs[1]])
    customers = [(r["organization_id"], r["square_customer_id"]) for r in conn.execute(
        "SELECT organization_id, square_customer_id FROM customer_analytics WHERE total_accepted_bookings > 0 ORDER BY 1, 2")]
    locations = {r["organization_id"]: r["id"] for r in conn.execute(
        "SELECT DISTINCT ON (organization_id) organization_id, id FROM locations ORDER BY organization_id, id")}
    as_of = BASE_AS_OF
    for round_no in range(8):
        for n, (org, customer) in enumerate(pick(rng, customers, rng.choice([1, 3, 8]))):
            change = rng.choice(["visit", "cancel", "refund"])
            if change == "visit":   # one more visit, days ago: frequency, recency, monetary move
                booking = conn.execute(
                    """INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
                       VALUES (%s, %s, %s, %s, %s, 'ACCEPTED') RETURNING id""",
                    [org, f"R{round_no}-{n}", customer, locations[org], as_of - timedelta(days=rng.randint(1, 400))]
                ).fetchone()["id"]
                conn.execute("""INSERT INTO payments (organization_id, payment_id, customer_id, booking_id, location_id,
                                                      amount_money_amount, total_money_amount, status, created_at)
                                VALUES (%s, %s, %s, %s, %s, %s, %s, 'COMPLETED', %s)""",
                             [org, f"RP{round_no}-{n}", customer, booking, locations[org],
                              rng.choice([500, 4000, 90000]), 0, as_of - timedelta(days=1)])
            elif change == "cancel":   # a visit undone (maybe the last one: the customer unranked)
                conn.execute("""UPDATE bookings SET status = 'CANCELLED_BY_SELLER'
                                 WHERE id = (SELECT id FROM bookings WHERE organization_id = %s AND customer_id = %s
                                               AND status = 'ACCEPTED' ORDER BY start_at DESC LIMIT 1)""",
                             [org, customer])
            else:
                conn.execute("DELETE FROM payments WHERE organization_id = %s AND customer_id = %s", [org, customer])
        as_of += timedelta(minutes=rng.choice([1, 5, 20]))
        refresh(conn, "incremental", as_of=as_of)
        assert_equals_full(conn, as_of)
        for org in orgs:   # the boundaries it left are usable by the next run
            assert len(conn.execute("SELECT * FROM zorina.rfm_moves_from_boundaries(%s, ARRAY[]::text[])",
                                    [org]).fetchall()) >= 3, (round_no, org)


def test_listed_customers_equal_full_in_workers_or_leader_with_either_plan(conn):
    # Few listed customers are computed by the leader, many by parallel workers (one
    # organization each, like a full refresh); zorina.parallel_listed_min_customers = 0 sends
    # even these few to the workers. Lists up to zorina.one_plan_max_listed_customers use the
    # definition's copy planned once per session (zorina.compute_listed_customer_rows), longer
    # ones the definition with a plan made for the list; 0 sends even these to the latter. The
    # same table as a full refresh every way.
    rng = random.Random(505)
    load(conn, generate(505, BASE_AS_OF, n_orgs=3, customers_per_org=150))
    refresh(conn, "full", as_of=BASE_AS_OF)
    plans = capture_plans(conn)
    as_of = BASE_AS_OF
    for workers_from, in_workers, one_plan_up_to in (("0", True, "1000"), ("100000", False, "1000"),
                                                     ("0", True, "0"), ("100000", False, "0")):
        conn.execute(f"SET zorina.parallel_listed_min_customers = {workers_from}")
        conn.execute(f"SET zorina.one_plan_max_listed_customers = {one_plan_up_to}")
        random_changes(conn, rng, as_of)
        as_of += timedelta(hours=7)
        plans.clear()
        result = refresh(conn, "incremental", as_of=as_of)
        listed = [p for p in plans if "CREATE TEMP TABLE zorina_computed" in p and "}'::text[]" in p]
        assert len(listed) == 1, (result, [p[:200] for p in plans if "zorina_computed" in p])
        assert ("Workers Launched: 2" in listed[0]) == in_workers, listed[0][-1500:]
        assert ("compute_listed_customer_rows(" in listed[0]) == (one_plan_up_to != "0")
        assert ("compute_customer_rows(" in listed[0]) == (one_plan_up_to == "0")
        assert 0 < result["customers_recomputed"] < 450
        plans.clear()
        assert_equals_full(conn, as_of)


def test_leader_statements_are_planned_for_their_customer_list_in_a_session_of_generic_plans(conn):
    # A session that ran full refreshes (every call without a list: NULL) settles on cached
    # generic plans for the leader's statements that take an organization's customer list; a
    # list that is a parameter is then searched one element at a time for every row of the
    # organization (seen at L: a 1% incremental took 21 s in such a session, 6 s in a new one).
    # plan_cache_mode = force_generic_plan stands for that session: the profile count of
    # zorina.compute_organizations and the vanished-profile check of zorina.merge_computed_rows
    # must still be planned with the list's values, zorina.customers_to_recompute must not carry
    # recent's branches, and the result stay that of full.
    rng = random.Random(606)
    load(conn, generate(606, BASE_AS_OF, n_orgs=2, customers_per_org=150))
    refresh(conn, "full", as_of=BASE_AS_OF)
    conn.execute("SET plan_cache_mode = force_generic_plan")
    random_changes(conn, rng, BASE_AS_OF)
    as_of = BASE_AS_OF + timedelta(hours=7)
    plans = capture_plans(conn)
    refresh(conn, "incremental", as_of=as_of)
    listed = {name: [p for p in plans if marker in p]
              for name, marker in (("profile count", "v_computed := v_computed + (SELECT count(*)"),
                                   ("vanished check", "WITH vanished AS MATERIALIZED"))}
    for name, statements in listed.items():
        # planned for the values: never a parameter ($n) in the plan's conditions (the vanished
        # check is built with EXECUTE, planned for each call's values: its query text names $1
        # and $2, its plan does not)
        assert statements, name
        conditions = [line for plan in statements for line in plan.splitlines()
                      if re.search(r"(Cond|Filter):", line)]
        assert not [line for line in conditions if "$" in line], name
    # the list appears as a literal in the profile count
    assert any("= ANY ('{" in line for plan in listed["profile count"] for line in plan.splitlines()), \
        [p[-800:] for p in listed["profile count"]]
    # recent's safety net (every source row written in 90 days) is a statement of its own, run in
    # recent mode only. As branches behind `p_recent AND` of the statement an incremental run
    # uses, the generic plan kept them behind one-time filters, one under a Gather: each call
    # started two parallel workers to find the filter false (L: 0.5 s of a run with nothing
    # changed)
    listing = [p for p in plans if "window_edges AS" in p]
    assert listing
    for plan in listing:
        assert "One-Time Filter" not in plan and "referral_rewards" not in plan, plan[-2000:]
    plans.clear()
    conn.execute("RESET plan_cache_mode")
    assert_equals_full(conn, as_of)


def test_the_listed_compute_is_the_definition_with_its_customer_filter_and_plan_mode_changed(conn):
    """zorina.compute_listed_customer_rows is derived from zorina.compute_customer_rows at
    install: the same source but for the filters a plan made once must be able to use."""
    signature = "(uuid, text[], timestamptz, text, integer, integer, integer)"
    definition, listed = (conn.execute(f"SELECT pg_get_functiondef('zorina.{name}{signature}'::regprocedure) AS d")
                          .fetchone()["d"] for name in ("compute_customer_rows", "compute_listed_customer_rows"))
    filters = [line.strip() for line in definition.splitlines() if "v_ids IS NULL OR" in line]
    assert len(filters) == 4, filters        # profiles, bookings, payments, rewards
    undone = listed.replace("compute_listed_customer_rows", "compute_customer_rows").replace(
        "force_generic_plan", "force_custom_plan")
    for line in filters:
        column_filter = line.removeprefix("AND (v_ids IS NULL OR ").removesuffix(")")
        assert undone.count(column_filter) == 1 and "AND " + column_filter in undone, column_filter
        undone = undone.replace("AND " + column_filter, line)
    assert undone == definition


@pytest.mark.parametrize("setting", ["zorina.parallel_listed_min_customers", "zorina.one_plan_max_listed_customers"])
def test_a_bad_listed_customers_setting_is_refused_and_changes_nothing(conn, setting):
    load(conn, generate(9, BASE_AS_OF, n_orgs=1, customers_per_org=20))
    refresh(conn, "full", as_of=BASE_AS_OF)
    conn.execute("UPDATE bookings SET status = 'NO_SHOW' WHERE id = (SELECT id FROM bookings ORDER BY id LIMIT 1)")
    before = table_rows(conn)
    conn.execute(f"SET {setting} = 'many'")
    with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
        refresh(conn, "incremental", as_of=BASE_AS_OF + timedelta(hours=1))
    assert "many" in str(refused.value) and setting in str(refused.value)
    assert table_rows(conn) == before
    assert conn.execute("SELECT count(*) AS n FROM zorina.dirty_keys").fetchone()["n"] > 0


def test_merge_of_listed_customers_refuses_arrays_out_of_step_and_changes_nothing(conn):
    # the incremental refresh merges the listed customers of every organization by one call,
    # each customer with its organization at the same position: a customer without one is an
    # error that names both counts, before any row is touched
    load(conn, generate(10, BASE_AS_OF, n_orgs=1, customers_per_org=20))
    refresh(conn, "full", as_of=BASE_AS_OF)
    org = conn.execute("SELECT id FROM organizations").fetchone()["id"]
    before = table_rows(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as refused, conn.transaction():
        conn.execute("SELECT zorina.prepare_computed_rows()")  # (dropped at commit)
        conn.execute("""INSERT INTO pg_temp.zorina_computed (organization_id, square_customer_id, given_name)
                        SELECT organization_id, square_customer_id, 'Changed' FROM customer_analytics""")
        conn.execute("""SELECT * FROM zorina.merge_computed_rows(
                            ARRAY[%s]::uuid[], ARRAY(SELECT square_customer_id FROM customer_analytics LIMIT 2))""",
                     [org])
    assert "2 listed customers but 1 organizations" in str(refused.value)
    assert table_rows(conn) == before


def test_time_alone_moves_segments_exactly(conn):
    load(conn, generate(55, BASE_AS_OF, n_orgs=2, customers_per_org=200))
    refresh(conn, "full", as_of=BASE_AS_OF)
    before = {key: row["customer_segment"] for key, row in table_rows(conn).items()}
    later = BASE_AS_OF + timedelta(days=100)
    result = refresh(conn, "incremental", as_of=later)
    after = {key: row["customer_segment"] for key, row in table_rows(conn).items()}
    turned_lost = [key for key in after if after[key] == "LOST" and before[key] != "LOST"]
    assert turned_lost, "100 days later some customers must have become LOST"
    # only the rows that moved were written: never the prospects
    assert result["rows_updated"] < len(after)
    assert_equals_full(conn, later)


def test_updates_by_ctid_read_only_their_rows(conn):
    """The time-relative pass and the RFM step update rows they found by ctid. Joined on ctid
    alone, the planner (a third of the organization guessed due; a staging table of unknown
    size) hashed every row of the organizations to update a few: a sequential scan of 100k rows
    at S. Both read their rows by a TID scan, whatever the estimates."""
    load(conn, generate(56, BASE_AS_OF, n_orgs=2, customers_per_org=300))
    refresh(conn, "full", as_of=BASE_AS_OF)
    conn.execute("ANALYZE customer_analytics")
    plans = capture_plans(conn)
    as_of = BASE_AS_OF
    for hours in (1, 1, 24):  # a few rows due, then a day boundary for everyone with a visit
        # one customer of each organization loses or regains a visit: ranks move
        conn.execute("""UPDATE bookings b SET status = CASE b.status WHEN 'ACCEPTED' THEN 'NO_SHOW' ELSE 'ACCEPTED' END
                         WHERE b.id IN (SELECT DISTINCT ON (organization_id) id FROM bookings
                                         WHERE start_at < %s ORDER BY organization_id, random())""", [as_of])
        as_of += timedelta(hours=hours)
        plans.clear()
        refresh(conn, "incremental", as_of=as_of)
        statements = ("WITH due AS", "WITH moves AS")
        by_ctid = {s: [p for p in plans if p.split("\n")[1].startswith("Query Text: " + s)] for s in statements}
        # one time-relative pass per organization, one RFM update for both
        assert [len(by_ctid[s]) for s in statements] == [2, 1], [p.split("\n")[1][:60] for p in plans]
        for plan in by_ctid["WITH due AS"] + by_ctid["WITH moves AS"]:
            update = plan.split("Update on customer_analytics", 1)[1]
            assert "Tid Scan on customer_analytics" in update, update
            assert "Heap Scan on customer_analytics" not in update and "Seq Scan on customer_analytics" not in update, update
    assert_equals_full(conn, as_of)


def test_upcoming_booking_that_started_becomes_a_visit_without_any_write(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "SOON")
    d.booking(org, "SOON", loc, BASE_AS_OF + timedelta(hours=2))
    load(conn, d.tables)
    refresh(conn, "full", as_of=BASE_AS_OF)
    assert customer_row(conn, org, "SOON")["customer_segment"] == "PROSPECT"
    conn.execute("DELETE FROM zorina.dirty_keys")  # nothing written since
    refresh(conn, "incremental", as_of=BASE_AS_OF + timedelta(hours=3))
    row = customer_row(conn, org, "SOON")
    assert row["customer_segment"] == "NEW" and row["total_accepted_bookings"] == 1
    assert row["next_booking_at"] is None and row["upcoming_bookings"] == 0


def test_triggers_mark_old_and_new_customers_once_per_statement(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "FROM"); d.customer(org, "TO")
    booking = d.booking(org, "FROM", loc, "2025-08-01 10:00+00")
    load(conn, d.tables)
    conn.execute("DELETE FROM zorina.dirty_keys")
    conn.execute("UPDATE bookings SET customer_id = 'TO' WHERE id = %s", [booking])
    def marked():
        return [(r["organization_id"], r["square_customer_ids"]) for r in conn.execute(
            "SELECT organization_id, square_customer_ids FROM zorina.dirty_keys ORDER BY id")]
    assert marked() == [(org, ["FROM", "TO"])]            # one row for the statement, both customers
    conn.execute("DELETE FROM zorina.dirty_keys")
    conn.execute("""INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
                    SELECT %s, 'MANY' || g, 'TO', %s, now(), 'ACCEPTED' FROM generate_series(1, 50) g""", [org, loc])
    assert marked() == [(org, ["TO"])]                     # fifty rows, one customer, marked once
    conn.execute("DELETE FROM zorina.dirty_keys")
    conn.execute("DELETE FROM bookings WHERE booking_id LIKE 'MANY%%' OR customer_id IS NULL")
    assert marked() == [(org, ["TO"])]
    conn.execute("DELETE FROM zorina.dirty_keys")
    conn.execute("UPDATE organizations SET settings = '{\"timezone\": \"Europe/Paris\"}' WHERE id = %s", [org])
    assert marked() == [(org, None)]                       # settings: every customer of it


def test_one_statement_over_two_organizations_marks_each_once(conn):
    d = SourceData()
    orgs = [d.org(), d.org()]
    locations = [d.location(org) for org in orgs]
    for org in orgs:
        d.customer(org, "A"); d.customer(org, "B")
    load(conn, d.tables)
    conn.execute("DELETE FROM zorina.dirty_keys")
    conn.execute("""INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
                    VALUES (%s, 'X1', 'A', %s, now(), 'ACCEPTED'), (%s, 'X2', 'B', %s, now(), 'ACCEPTED'),
                           (%s, 'X3', 'B', %s, now(), 'ACCEPTED'), (%s, 'X4', NULL, %s, now(), 'ACCEPTED')""",
                 [orgs[0], locations[0], orgs[0], locations[0], orgs[1], locations[1], orgs[1], locations[1]])
    marked = {r["organization_id"]: r["square_customer_ids"] for r in conn.execute(
        "SELECT organization_id, square_customer_ids FROM zorina.dirty_keys")}
    assert marked == {orgs[0]: ["A", "B"], orgs[1]: ["B"]}
    assert conn.execute("SELECT count(*) AS n FROM zorina.dirty_keys").fetchone()["n"] == 2


def test_a_deleted_organization_leaves_nothing_behind(conn):
    # deleting an organization deletes its source rows with it; the changes the triggers
    # captured then belong to no organization a refresh claims, and went unclaimed forever
    load(conn, generate(67, BASE_AS_OF, n_orgs=2, customers_per_org=40))
    refresh(conn, "full", as_of=BASE_AS_OF)
    gone, kept = [r["id"] for r in conn.execute("SELECT id FROM organizations ORDER BY id")]
    # both organizations ranked by an incremental refresh: their boundaries stored
    conn.execute("SELECT zorina.refresh_rfm(%s::uuid[], jsonb_build_object(%s::text, '[]'::jsonb, %s::text, '[]'::jsonb))",
                 [[gone, kept], gone, kept])
    assert len(rfm_boundaries(conn)) == 6
    conn.execute("DELETE FROM organizations WHERE id = %s", [gone])
    assert conn.execute("SELECT count(*) AS n FROM zorina.dirty_keys WHERE organization_id = %s",
                        [gone]).fetchone()["n"] > 0
    refresh(conn, "incremental", as_of=BASE_AS_OF + timedelta(hours=1))
    for table in ("zorina.dirty_keys", "zorina.refresh_state", "zorina.segment_counts",
                  "zorina.rfm_boundaries", "customer_analytics"):
        left = conn.execute(f"SELECT DISTINCT organization_id FROM {table}").fetchall()
        expected = [] if table == "zorina.dirty_keys" else [kept]
        assert [r["organization_id"] for r in left] == expected, table


def test_failed_incremental_keeps_table_and_dirty_keys(conn):
    load(conn, generate(66, BASE_AS_OF, n_orgs=2, customers_per_org=80))
    refresh(conn, "full", as_of=BASE_AS_OF)
    random_changes(conn, random.Random(66), BASE_AS_OF)
    dirty_before = conn.execute("SELECT id FROM zorina.dirty_keys ORDER BY id").fetchall()
    table_before = table_rows(conn)
    assert dirty_before
    # force an error mid-run: the last organization's settings cannot be read
    last_org = conn.execute("SELECT id FROM organizations ORDER BY id DESC LIMIT 1").fetchone()["id"]
    conn.execute("ALTER TABLE organizations DISABLE TRIGGER zorina_capture_update")
    conn.execute("""UPDATE organizations SET settings = '{"segment_at_risk_days": "never"}' WHERE id = %s""", [last_org])
    with pytest.raises(psycopg.Error):
        refresh(conn, "incremental", as_of=BASE_AS_OF + timedelta(days=1))
    assert conn.execute("SELECT id FROM zorina.dirty_keys ORDER BY id").fetchall() == dirty_before
    assert table_rows(conn) == table_before
    assert conn.execute("""SELECT status::text FROM application_logs ORDER BY created_at DESC LIMIT 1""").fetchone()["status"] == "error"


def test_bulk_load_with_triggers_disabled_is_caught_by_recent(conn):
    load(conn, generate(77, BASE_AS_OF, n_orgs=1, customers_per_org=100))
    refresh(conn, "full", as_of=BASE_AS_OF)
    org, customer = conn.execute("SELECT organization_id, square_customer_id FROM square_existing_clients LIMIT 1").fetchone().values()
    location = conn.execute("SELECT id FROM locations WHERE organization_id = %s LIMIT 1", [org]).fetchone()["id"]
    conn.execute("SET session_replication_role = replica")
    conn.execute("""INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status, created_at)
                    SELECT %s, 'BULK' || g, %s, %s, %s - g * interval '1 day', 'ACCEPTED', %s
                      FROM generate_series(1, 20) g""", [org, customer, location, BASE_AS_OF, BASE_AS_OF])
    conn.execute("SET session_replication_role = origin")
    assert conn.execute("SELECT count(*) AS n FROM zorina.dirty_keys").fetchone()["n"] == 0
    later = BASE_AS_OF + timedelta(minutes=10)
    refresh(conn, "incremental", as_of=later)
    missed = refresh(conn, "full", as_of=later)
    assert missed["rows_updated"] >= 1   # incremental could not know: no trigger fired
    # the same again, caught by recent this time
    conn.execute("SET session_replication_role = replica")
    conn.execute("""INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status, created_at)
                    VALUES (%s, 'BULK-LATE', %s, %s, %s, 'ACCEPTED', %s)""",
                 [org, customer, location, BASE_AS_OF - timedelta(days=5), later])
    conn.execute("SET session_replication_role = origin")
    latest = later + timedelta(minutes=10)
    refresh(conn, "recent", as_of=latest)
    assert_equals_full(conn, latest)


def test_incremental_refuses_to_go_back_in_time(conn):
    load(conn, generate(88, BASE_AS_OF, n_orgs=1, customers_per_org=20))
    refresh(conn, "full", as_of=BASE_AS_OF)
    for mode in ("incremental", "recent"):
        with pytest.raises(psycopg.Error) as error:
            refresh(conn, mode, as_of=BASE_AS_OF - timedelta(hours=1))
        assert error.value.diag.sqlstate == "22023"
        assert "full or org" in error.value.diag.message_hint
    assert refresh(conn, "full", as_of=BASE_AS_OF - timedelta(hours=1))["skipped"] is False


def test_recently_booked_customer_count_counts_recents_booking_window(conn):
    """The count `recent` decides by before listing anyone: customers with a booking of any
    status that started in (as_of - 90 days, as_of], each once; a subset of recent's list."""
    d = SourceData()
    org = d.org(); loc = d.location(org)
    other = d.org(); other_loc = d.location(other)
    window_start = BASE_AS_OF - timedelta(days=90)
    inside = {"AT_AS_OF": BASE_AS_OF, "JUST_INSIDE": window_start + timedelta(seconds=1),
              "MIDDLE": BASE_AS_OF - timedelta(days=40)}
    outside = {"AT_WINDOW_START": window_start, "FUTURE": BASE_AS_OF + timedelta(seconds=1),
               "OLD": BASE_AS_OF - timedelta(days=400)}
    for customer, start in {**inside, **outside}.items():
        d.customer(org, customer)
        d.booking(org, customer, loc, start, status="CANCELLED_BY_CUSTOMER" if customer == "MIDDLE" else "ACCEPTED")
    d.booking(org, "MIDDLE", loc, BASE_AS_OF - timedelta(days=3))          # twice in the window: once
    d.booking(org, None, loc, BASE_AS_OF - timedelta(days=3))              # a walk-in: no customer
    d.customer(other, "ELSEWHERE"); d.booking(other, "ELSEWHERE", other_loc, BASE_AS_OF - timedelta(days=1))
    load(conn, d.tables)

    counted = conn.execute("SELECT zorina.recently_booked_customer_count(%s, %s) AS n", [org, BASE_AS_OF]).fetchone()["n"]
    assert counted == len(inside)
    listed = conn.execute("SELECT zorina.customers_to_recompute(%s, ARRAY[]::text[], %s, %s, true) AS ids",
                          [org, BASE_AS_OF - timedelta(minutes=5), BASE_AS_OF]).fetchone()["ids"]
    assert set(inside) <= set(listed)


def test_recent_recomputes_a_busy_organization_whole_and_equals_full(conn):
    """Past a thousand customers and a quarter of the organization booked in recent's window,
    recent recomputes the organization whole without listing its customers first (the listing
    scans every booking and payment of it); same rows as full."""
    d = SourceData()
    org = d.org(timezone="Europe/Berlin"); loc = d.location(org)
    for n in range(1600):
        customer = d.customer(org, f"C{n:05d}")
        if n < 1200:    # booked in the window: 1200 > 1000 and > a quarter of 1600
            d.booking(org, customer, loc, BASE_AS_OF - timedelta(days=n % 80, hours=n % 7))
        else:
            d.booking(org, customer, loc, BASE_AS_OF - timedelta(days=200 + n % 50))
    load(conn, d.tables)
    refresh(conn, "full", as_of=BASE_AS_OF - timedelta(days=2))
    assert conn.execute("SELECT zorina.whole_organization_is_cheaper(%s, 1200) AS yes", [org]).fetchone()["yes"]
    assert not conn.execute("SELECT zorina.whole_organization_is_cheaper(%s, 400) AS yes", [org]).fetchone()["yes"]
    def calls_during(mode, as_of):
        # the function calls of this refresh (track_functions counts SQL functions not inlined):
        # the backend's pending counts, flushed first (they outlive a transaction until flushed)
        conn.execute("SELECT pg_stat_force_next_flush()")
        with conn.transaction():
            conn.execute("SET LOCAL track_functions = 'all'")
            result = refresh(conn, mode, as_of=as_of)
            calls = {row["funcname"]: row["calls"] for row in conn.execute(
                "SELECT funcname, calls FROM pg_stat_xact_user_functions WHERE schemaname = 'zorina'")}
        return result, calls

    result, calls = calls_during("recent", BASE_AS_OF)
    assert result["customers_recomputed"] == 1600          # the whole organization ...
    assert calls.get("recently_booked_customer_count") == 1
    assert "customers_to_recompute" not in calls            # ... decided without listing it
    assert_equals_full(conn, BASE_AS_OF)
    # incremental has no such shortcut: it lists (and the counter sees it)
    _, calls = calls_during("incremental", BASE_AS_OF + timedelta(minutes=5))
    assert calls.get("customers_to_recompute") == 1 and "recently_booked_customer_count" not in calls


def test_next_day_boundary_is_inlined_and_keeps_the_values_of_migration_0002(conn):
    # The index over it is only as cheap to write as the function is to call: inlined, EXPLAIN
    # shows its body, not its name. And its values must be migration 0002's (the entries written
    # before 0007 stay in the index): the old body spelled out, compared at instants around
    # 1970, DST changes and leap days, to the microsecond.
    plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(
        "EXPLAIN (VERBOSE) SELECT zorina.next_day_boundary(t, t, 3, 2) FROM (VALUES (now())) AS v(t)"))
    assert "next_day_boundary" not in plan and "epoch" in plan, plan
    rng = random.Random(7)
    anchors = [datetime(1969, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
               datetime(2024, 2, 29, 12, 0, tzinfo=timezone.utc),
               datetime(2025, 3, 30, 1, 0, tzinfo=timezone.utc),    # Europe springs forward
               datetime(2025, 11, 2, 6, 0, tzinfo=timezone.utc)]    # the US falls back
    instants = [a + timedelta(microseconds=rng.randrange(-10**11, 10**11)) for a in anchors for _ in range(250)]
    differing = conn.execute(
        """SELECT count(*) AS n
             FROM unnest(%(first)s::timestamptz[], %(last)s::timestamptz[], %(tenure)s::int[], %(days)s::int[])
                  AS v(f, l, t, d)
            WHERE zorina.next_day_boundary(f, l, t, d)
                  IS DISTINCT FROM least(extract(epoch FROM l)::double precision + (d + 1) * 86400.0,
                                         extract(epoch FROM f)::double precision + (t + 1) * 86400.0)""",
        # day counts drawn apart from the instants: either side of least() wins for some rows
        {"first": [i - timedelta(seconds=rng.randrange(0, 10**8)) for i in instants], "last": instants,
         "tenure": [rng.randrange(0, 3000) for _ in instants],
         "days": [rng.randrange(0, 3000) for _ in instants]}).fetchone()["n"]
    assert differing == 0
