"""Payment metrics (contract section 3, Payments): COMPLETED only, whatever their created_at."""

from builder import SourceData, ts
from conftest import customer_row, load, refresh

AS_OF = ts("2026-06-15 12:00+00")


def test_only_completed_payments_count_and_null_tips_are_zero(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "PAYER")
    d.payment(org, "PAYER", loc, 4000, tip=None, created_at="2026-06-10 12:00+00")
    d.payment(org, "PAYER", loc, 6001, tip=999, created_at="2026-01-10 12:00+00")
    for status in ("APPROVED", "PENDING", "CANCELED", "FAILED", "REFUNDED?"):
        d.payment(org, "PAYER", loc, 100000, tip=10, status=status, created_at="2026-06-10 12:00+00")
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "PAYER")
    assert row["total_payments"] == 2
    assert row["gross_revenue_cents"] == 4000 + 7000
    assert row["total_tips_cents"] == 999
    assert row["total_revenue_cents"] == 10001
    assert row["avg_ticket_cents"] == 5001          # round(10001 / 2 = 5000.5) half away from zero
    assert row["max_ticket_cents"] == 6001          # total - tip
    assert row["first_payment_at"] == ts("2026-01-10 12:00+00")
    assert row["last_payment_at"] == ts("2026-06-10 12:00+00")


def test_revenue_windows_and_payments_after_as_of(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "WIN")
    d.payment(org, "WIN", loc, 100, created_at="2026-05-16 12:00+00")      # exactly 30 days: out of 30d
    d.payment(org, "WIN", loc, 200, created_at="2026-05-16 12:00:01+00")   # in 30d
    d.payment(org, "WIN", loc, 400, created_at="2026-03-17 12:00:01+00")   # in 90d
    d.payment(org, "WIN", loc, 800, created_at="2025-06-15 12:00:01+00")   # in 365d
    d.payment(org, "WIN", loc, 1600, created_at="2026-06-20 12:00+00")     # after as_of: lifetime only
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "WIN")
    assert row["revenue_last_30d_cents"] == 200
    assert row["revenue_last_90d_cents"] == 700
    assert row["revenue_last_365d_cents"] == 1500
    assert row["total_revenue_cents"] == 3100 and row["total_payments"] == 5
    assert row["last_payment_at"] == ts("2026-06-20 12:00+00")


def test_zone_less_payment_timestamps_are_utc_whatever_the_session_zone(conn):
    """payments.created_at is `timestamp without time zone` in the reference schema (as Prisma
    makes it); the test session runs in Pacific/Auckland. 2026-05-16 12:00:01 must read as UTC."""
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "NAIVE")
    d.payment(org, "NAIVE", loc, 500, created_at="2026-05-16 12:00:01+00")
    load(conn, d.tables)
    assert conn.execute("SELECT created_at::text AS t FROM payments").fetchone()["t"] == "2026-05-16 12:00:01"
    refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "NAIVE")
    assert row["first_payment_at"] == ts("2026-05-16 12:00:01+00")
    assert row["revenue_last_30d_cents"] == 500


def test_payment_without_profile_or_customer_is_ignored(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "REAL")
    d.payment(org, None, loc, 999)
    d.payment(org, "NOPROFILE", loc, 999)
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    assert customer_row(conn, org, "REAL")["total_payments"] == 0
    assert conn.execute("SELECT count(*) AS n FROM customer_analytics").fetchone()["n"] == 1
