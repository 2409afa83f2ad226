"""Segments and RFM (contract section 3, Segments)."""

import random
from datetime import timedelta

import pytest

from builder import SourceData, ts
from conftest import customer_row, load, refresh, table_rows
from randomdata import generate

AS_OF = ts("2026-06-15 12:00+00")


def test_segment_thresholds_default_and_overridden(conn):
    d = SourceData()
    default = d.org(); loc = d.location(default)
    custom = d.org(segment_new_days=10, segment_active_days="20", segment_at_risk_days=40)
    cloc = d.location(custom)
    cases = {  # customer: (first visit days ago, last visit days ago) -> default segment, custom segment
        "N": ((29, 1), "NEW", "ACTIVE"),
        "A": ((100, 44), "ACTIVE", "LOST"),
        "R": ((100, 89), "AT_RISK", "LOST"),
        "L": ((200, 90), "LOST", "LOST"),
        "C": ((15, 15), "NEW", "ACTIVE"),
        "K": ((30, 30), "ACTIVE", "AT_RISK"),   # exactly 30 days: no longer NEW (window is half-open)
    }
    for org, location in ((default, loc), (custom, cloc)):
        for customer, ((first, last), _, _) in cases.items():
            d.customer(org, customer)
            d.booking(org, customer, location, AS_OF - timedelta(days=first))
            if last != first:
                d.booking(org, customer, location, AS_OF - timedelta(days=last))
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    for customer, (_, expected_default, expected_custom) in cases.items():
        assert customer_row(conn, default, customer)["customer_segment"] == expected_default, customer
        assert customer_row(conn, custom, customer)["customer_segment"] == expected_custom, customer


def _ranked_visitors(d, org, loc, count):
    """C01 .. C<count>: customer i has i visits, the last one i*10 days before AS_OF (the more
    visits, the less recent), and i * 1000 cents of revenue."""
    for i in range(1, count + 1):
        customer = f"C{i:02d}"
        d.customer(org, customer)
        for v in range(i):
            d.booking(org, customer, loc, AS_OF - timedelta(days=i * 10 + v))
        d.payment(org, customer, loc, 1000 * i, created_at="2026-06-01 00:00+00")


def test_rfm_scores_are_ntiles_within_the_organization(conn):
    d = SourceData(); org = d.org(); loc = d.location(org); other = d.org(); oloc = d.location(other)
    _ranked_visitors(d, org, loc, 10)
    d.customer(org, "PROSPECT")
    d.customer(other, "ALONE"); d.booking(other, "ALONE", oloc, AS_OF - timedelta(days=400))
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    rows = table_rows(conn, org)
    # ntile(5) over 10 rows: 2 per bucket
    expected_frequency = {f"C{i:02d}": (i + 1) // 2 for i in range(1, 11)}
    expected_recency = {f"C{i:02d}": 5 - (i - 1) // 2 for i in range(1, 11)}   # most recent get 5
    for customer, score in expected_frequency.items():
        row = rows[(org, customer)]
        assert row["rfm_frequency_score"] == score, customer
        assert row["rfm_monetary_score"] == score, customer
        assert row["rfm_recency_score"] == expected_recency[customer], customer
    assert rows[(org, "C01")]["rfm_segment"] == "NEW_PROMISING"      # R5 F1 M1
    assert rows[(org, "C10")]["rfm_segment"] == "LOYAL"              # R1 F5 M5: F>=4 before AT_RISK_VALUABLE
    assert rows[(org, "C05")]["rfm_segment"] == "NEEDS_ATTENTION"    # R3 F3 M3
    assert rows[(org, "PROSPECT")]["rfm_recency_score"] is None
    assert rows[(org, "PROSPECT")]["rfm_segment"] is None
    # the other organization's lone customer is ranked alone
    alone = customer_row(conn, other, "ALONE")
    assert (alone["rfm_recency_score"], alone["rfm_frequency_score"], alone["rfm_monetary_score"]) == (1, 1, 1)
    assert alone["rfm_segment"] == "HIBERNATING"


def test_rfm_after_incremental_changes_reranks_the_stored_rows(conn):
    # zorina.rfm_moves re-derives the ranks from the stored rows (the rank-ordered indexes of
    # migration 0005) and writes only the scores that moved: a customer who lost every visit
    # loses its scores, a newcomer shifts the bucket boundaries of everyone behind it
    d = SourceData(); org = d.org(); loc = d.location(org)
    _ranked_visitors(d, org, loc, 10)
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    later = AS_OF + timedelta(minutes=5)
    conn.execute("UPDATE bookings SET status = 'CANCELLED_BY_CUSTOMER' WHERE organization_id = %s "
                 "AND customer_id = 'C10'", [org])
    refresh(conn, "incremental", as_of=later)
    rows = table_rows(conn, org)
    gone = rows[(org, "C10")]
    assert (gone["rfm_recency_score"], gone["rfm_frequency_score"], gone["rfm_monetary_score"],
            gone["rfm_segment"]) == (None, None, None, None)
    # nine visitors: ntile(5) gives buckets of 2, 2, 2, 2, 1
    nine = [1, 1, 2, 2, 3, 3, 4, 4, 5]
    for i in range(1, 10):
        row = rows[(org, f"C{i:02d}")]
        assert row["rfm_frequency_score"] == nine[i - 1], i
        assert row["rfm_monetary_score"] == nine[i - 1], i
        assert row["rfm_recency_score"] == nine[9 - i], i   # C09 visited longest ago
    # a newcomer with the most revenue and the most recent visit, through the per-customer path
    conn.execute("INSERT INTO square_existing_clients (organization_id, square_customer_id, created_at) "
                 "VALUES (%s, 'C11', '2026-01-01')", [org])
    conn.execute("""INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
                    VALUES (%s, 'B-C11', 'C11', %s, %s, 'ACCEPTED')""", [org, loc, AS_OF - timedelta(days=1)])
    conn.execute("""INSERT INTO payments (organization_id, payment_id, customer_id, location_id,
                                          amount_money_amount, total_money_amount, status, created_at)
                    VALUES (%s, 'P-C11', 'C11', %s, 99000, 99000, 'COMPLETED', '2026-06-01')""", [org, loc])
    conn.execute("SELECT refresh_customer_analytics_for_customer(%s, 'C11', as_of => %s)", [org, later])
    rows = table_rows(conn, org)
    # ten visitors again: 2 per bucket; C11 has one visit (ties with C01, ordered by id after it)
    frequency = dict(zip(["C01", "C11", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09"],
                         [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]))
    monetary = dict(zip([f"C{i:02d}" for i in range(1, 10)] + ["C11"], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]))
    recency = dict(zip(["C09", "C08", "C07", "C06", "C05", "C04", "C03", "C02", "C01", "C11"],
                       [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]))
    for customer in frequency:
        row = rows[(org, customer)]
        assert (row["rfm_recency_score"], row["rfm_frequency_score"], row["rfm_monetary_score"]) == \
            (recency[customer], frequency[customer], monetary[customer]), customer
        assert row["rfm_segment"] == conn.execute(
            "SELECT zorina.rfm_segment(%s, %s, %s) AS s",
            [recency[customer], frequency[customer], monetary[customer]]).fetchone()["s"], customer
    # and what a full refresh at the same instant stores
    assert refresh(conn, "full", as_of=later)["rows_updated"] == 0


def test_rfm_bucket_is_ntile(conn):
    # zorina.rfm_bucket reads a score off a position: the same as ntile(5) for every size
    wrong = conn.execute("""
        SELECT n, k, ntile, zorina.rfm_bucket(k, n) AS bucket
          FROM (SELECT n, k, ntile(5) OVER (PARTITION BY n ORDER BY k) AS ntile
                  FROM generate_series(1, 60) AS n, generate_series(1, n) AS k) t
         WHERE zorina.rfm_bucket(k, n) IS DISTINCT FROM ntile::smallint""").fetchall()
    assert wrong == []
    assert conn.execute("SELECT zorina.rfm_bucket(NULL, 10) AS b").fetchone()["b"] is None


def test_rfm_bucket_end_is_the_last_position_of_each_bucket(conn):
    # its inverse: the last position scored <= b (0 before the first, n after the last)
    wrong = conn.execute("""
        SELECT n, b, zorina.rfm_bucket_end(b, n) AS got,
               coalesce((SELECT max(k) FROM generate_series(1, n) AS k WHERE zorina.rfm_bucket(k, n) <= b), 0) AS want
          FROM generate_series(0, 60) AS n, generate_series(0, 5) AS b
         WHERE zorina.rfm_bucket_end(b, n)
               IS DISTINCT FROM coalesce((SELECT max(k) FROM generate_series(1, n) AS k
                                           WHERE zorina.rfm_bucket(k, n) <= b), 0)""").fetchall()
    assert wrong == []


MOVES = "SELECT row_id::text, recency, frequency, monetary, segment FROM {} WHERE row_id IS NOT NULL"
# the boundary rows zorina.rfm_moves_after_changes returns after its moves (row_id NULL), and what
# the stored rows' keys give now
BOUNDARIES = ("SELECT score, ranked_customers, boundary_values, boundary_customers FROM {} "
              "WHERE row_id IS NULL ORDER BY score")
CURRENT_BOUNDARIES = ("SELECT score, ranked_customers, boundary_values, boundary_customers "
                      "FROM zorina.rfm_current_boundaries(%s) ORDER BY score")


def test_rfm_moves_after_changes_equal_the_comparison_of_every_row(conn):
    # zorina.rfm_moves_after_changes finds the moved scores from the changed customers and the
    # previous bucket boundaries (or, without them, a binary search of the stored scores); it
    # must return exactly what comparing every row (zorina.rfm_moves) returns, whatever moved:
    # ranks up and down, ties, customers losing their visits, deleted rows, newcomers without
    # scores, and many changes (its fallback); and the boundaries of the ranking as it is now
    load(conn, generate(5, AS_OF, n_orgs=1, customers_per_org=300))
    refresh(conn, as_of=AS_OF)
    org = conn.execute("SELECT id FROM organizations").fetchone()["id"]
    rng = random.Random(5)
    rounds_with_moves = rounds_from_boundaries = 0
    for round_no in range(24):
        refresh(conn, "full", as_of=AS_OF)   # the stored scores exact again
        # the boundaries, which a full refresh that wrote rows forgets, stored by a re-ranking
        conn.execute("SELECT zorina.refresh_rfm(ARRAY[%s]::uuid[], jsonb_build_object(%s::text, '[]'::jsonb))",
                     [org, org])
        keys = [r["square_customer_id"] for r in conn.execute(
            "SELECT square_customer_id FROM customer_analytics WHERE organization_id = %s "
            "AND total_accepted_bookings > 0 ORDER BY 1", [org])]
        # up to 20 of ~220 ranked customers: the binary search; 100: the comparison of every row
        changed = rng.sample(keys, 100 if round_no == 13 else rng.choice([1, 2, 5, 12, 20]))
        deleted = False
        for key in changed:
            change = rng.choice(["visits", "revenue", "recency", "all", "lost", "deleted"])
            if change == "deleted" and round_no % 2:   # (half the rounds: the boundaries' path)
                deleted = True
                conn.execute("DELETE FROM customer_analytics WHERE organization_id = %s AND square_customer_id = %s",
                             [org, key])
                continue
            conn.execute("""
                UPDATE customer_analytics
                   SET total_accepted_bookings = CASE WHEN %(change)s = 'lost' THEN 0
                                                      WHEN %(change)s IN ('visits', 'all') THEN %(visits)s
                                                      ELSE total_accepted_bookings END,
                       total_revenue_cents = CASE WHEN %(change)s IN ('revenue', 'all') THEN %(revenue)s
                                                  ELSE total_revenue_cents END,
                       days_since_last_visit = CASE WHEN %(change)s IN ('recency', 'all') THEN %(days)s
                                                    ELSE days_since_last_visit END
                 WHERE organization_id = %(org)s AND square_customer_id = %(key)s""",
                {"change": change, "visits": rng.choice([1, 2, 3, 40]), "revenue": rng.choice([0, 5000, 10 ** 7]),
                 "days": rng.choice([0, 3, 90, 900]), "org": org, "key": key})
        newcomers = [f"NEW-{round_no}-{i}" for i in range(rng.choice([0, 1, 4]))]
        for key in newcomers:   # merged rows of listed customers have no scores yet
            conn.execute("""INSERT INTO customer_analytics (organization_id, square_customer_id,
                                total_accepted_bookings, total_revenue_cents, days_since_last_visit)
                            VALUES (%s, %s, %s, %s, %s)""",
                         [org, key, rng.choice([1, 2, 5]), rng.choice([0, 7000]), rng.choice([1, 30])])
        changed += newcomers
        expected = sorted(conn.execute(MOVES.format("zorina.rfm_moves(%s)"), [org]).fetchall(),
                          key=lambda r: r["row_id"])
        actual = sorted(conn.execute(MOVES.format("zorina.rfm_moves_after_changes(%s, %s)"),
                                     [org, changed]).fetchall(), key=lambda r: r["row_id"])
        assert actual == expected, (round_no, changed)
        boundaries = conn.execute(CURRENT_BOUNDARIES, [org]).fetchall()
        assert conn.execute(BOUNDARIES.format("zorina.rfm_moves_after_changes(%s, %s)"),
                            [org, changed]).fetchall() == boundaries, round_no
        # without a deleted row and with few changes, the moves come from the boundaries alone
        from_boundaries = conn.execute(MOVES.format("zorina.rfm_moves_from_boundaries(%s, %s)"),
                                       [org, changed]).fetchall()
        if not deleted and round_no != 13:
            assert sorted(from_boundaries, key=lambda r: r["row_id"]) == expected, round_no
            assert conn.execute(BOUNDARIES.format("zorina.rfm_moves_from_boundaries(%s, %s)"),
                                [org, changed]).fetchall() == boundaries, round_no
            rounds_from_boundaries += 1
        rounds_with_moves += bool(expected)
    assert rounds_with_moves >= 16   # the rounds did move scores
    assert rounds_from_boundaries >= 10


def test_rfm_moves_after_changes_compare_everything_when_the_stored_scores_are_not_exact(conn):
    # the search relies on the stored scores of unchanged customers being exact; a missing one
    # says they are not, and every row is compared instead
    load(conn, generate(6, AS_OF, n_orgs=1, customers_per_org=120))
    refresh(conn, as_of=AS_OF)
    org = conn.execute("SELECT id FROM organizations").fetchone()["id"]
    conn.execute("""UPDATE customer_analytics SET rfm_recency_score = NULL, rfm_frequency_score = NULL,
                           rfm_monetary_score = NULL, rfm_segment = NULL
                     WHERE organization_id = %s AND total_accepted_bookings > 0""", [org])
    expected = conn.execute(MOVES.format("zorina.rfm_moves(%s)"), [org]).fetchall()
    actual = conn.execute(MOVES.format("zorina.rfm_moves_after_changes(%s, ARRAY[]::text[])"), [org]).fetchall()
    assert len(expected) > 50 and sorted(actual, key=str) == sorted(expected, key=str)


def test_score_updates_can_be_hot(conn):
    # the score updates after every incremental refresh stay heap-only (no index entry written)
    # only while no index uses an rfm_* column, as key, INCLUDE, expression or predicate
    indexed = conn.execute("""
        SELECT i.indexrelid::regclass::text AS index_name
          FROM pg_index i
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname LIKE 'rfm\\_%'
         WHERE i.indrelid = 'customer_analytics'::regclass
           AND (a.attnum = ANY (i.indkey::int2[])
                OR pg_get_expr(i.indexprs, i.indrelid) ~ a.attname
                OR pg_get_expr(i.indpred, i.indrelid) ~ a.attname)""").fetchall()
    assert indexed == []
    options = conn.execute("SELECT reloptions FROM pg_class WHERE oid = 'customer_analytics'::regclass").fetchone()
    assert "fillfactor=90" in options["reloptions"]


@pytest.mark.parametrize("scores, segment", [
    ((4, 4, 4), "CHAMPIONS"), ((5, 5, 3), "LOYAL"), ((1, 4, 1), "LOYAL"), ((4, 2, 5), "NEW_PROMISING"),
    ((2, 3, 4), "AT_RISK_VALUABLE"), ((1, 1, 4), "AT_RISK_VALUABLE"), ((2, 2, 3), "HIBERNATING"),
    ((3, 3, 3), "NEEDS_ATTENTION"), ((4, 3, 1), "NEEDS_ATTENTION"), ((None, None, None), None),
])
def test_rfm_segment_rules_first_match_wins(conn, scores, segment):
    assert conn.execute("SELECT zorina.rfm_segment(%s, %s, %s) AS s", list(scores)).fetchone()["s"] == segment
