"""Booking metrics (contract section 3, Bookings), pinned with hand-built fixtures."""

from datetime import datetime, timezone
from decimal import Decimal

from builder import SourceData, ts
from conftest import customer_row, load, refresh, table_rows

AS_OF = ts("2026-06-15 12:00+00")



def test_future_accepted_booking_is_upcoming_not_a_visit(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "FUTURE")
    d.booking(org, "FUTURE", loc, "2026-06-20 10:00+00")                       # accepted, future
    d.booking(org, "FUTURE", loc, "2026-06-18 10:00+00", status="PENDING")     # pending, future
    d.booking(org, "FUTURE", loc, "2026-06-01 10:00+00", status="PENDING")     # pending, past: neither
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "FUTURE")
    assert row["total_accepted_bookings"] == 0
    assert row["first_booking_at"] is None and row["last_booking_at"] is None
    assert row["upcoming_bookings"] == 2
    assert row["next_booking_at"] == ts("2026-06-18 10:00+00")
    assert row["total_bookings"] == 3
    assert row["customer_segment"] == "PROSPECT"
    assert row["rfm_recency_score"] is None and row["rfm_segment"] is None


def test_booking_starting_exactly_at_as_of_is_a_visit(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "EDGE")
    d.booking(org, "EDGE", loc, AS_OF)
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "EDGE")
    assert row["total_accepted_bookings"] == 1 and row["upcoming_bookings"] == 0
    assert row["days_since_last_visit"] == 0 and row["customer_segment"] == "NEW"


def test_only_cancellations(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "CANCELLER")
    d.booking(org, "CANCELLER", loc, "2026-05-01 10:00+00", status="CANCELLED_BY_CUSTOMER")
    d.booking(org, "CANCELLER", loc, "2026-05-08 10:00+00", status="CANCELLED_BY_CUSTOMER")
    d.booking(org, "CANCELLER", loc, "2026-07-08 10:00+00", status="CANCELLED_BY_SELLER")
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "CANCELLER")
    assert (row["total_bookings"], row["total_cancelled_by_customer"], row["total_cancelled_by_seller"]) == (3, 2, 1)
    assert row["total_accepted_bookings"] == 0
    assert row["cancellation_rate"] == Decimal("0.6667")
    assert row["no_show_rate"] is None            # 0 visits + 0 no-shows: denominator 0
    assert row["customer_segment"] == "PROSPECT"


def test_profile_without_activity_is_a_prospect_with_zeros(conn):
    d = SourceData(); org = d.org(); d.location(org)
    d.customer(org, "QUIET", given_name="Quinn", created_at="2026-06-01 00:00+00")
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "QUIET")
    assert row["given_name"] == "Quinn" and row["profile_created_at"] == ts("2026-06-01 00:00+00")
    assert row["customer_segment"] == "PROSPECT"
    for column in ("total_bookings", "total_accepted_bookings", "visits_last_365d", "total_payments",
                   "total_revenue_cents", "avg_ticket_cents", "max_ticket_cents", "total_referrals",
                   "distinct_locations", "total_booked_minutes"):
        assert row[column] == 0, column
    for column in ("first_booking_at", "avg_days_between_visits", "days_since_last_visit", "tenure_days",
                   "preferred_location_id", "preferred_weekday", "no_show_rate", "cancellation_rate",
                   "predicted_next_visit_at", "first_payment_at"):
        assert row[column] is None, column
    assert row["booking_notes"] == [] and row["is_overdue"] is False


def test_rates_rhythm_and_windows(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "REG")
    for start in ("2026-03-01 10:00+00", "2026-04-01 10:00+00", "2026-05-16 12:00+00", "2026-05-16 12:00:01+00"):
        d.booking(org, "REG", loc, start, duration=None if start.startswith("2026-04") else 45)
    d.booking(org, "REG", loc, "2026-05-20 10:00+00", status="NO_SHOW")
    d.booking(org, "REG", loc, "2026-05-21 10:00+00", status="DECLINED")
    d.booking(org, "REG", loc, "2026-05-22 10:00+00", status="WEIRD")           # unknown: counted nowhere
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "REG")
    assert row["total_accepted_bookings"] == 4
    assert row["total_bookings"] == 6 and row["total_no_shows"] == 1 and row["total_declined"] == 1
    assert row["no_show_rate"] == Decimal("0.2000")                      # 1 / (4 + 1)
    assert row["total_booked_minutes"] == 135                            # NULL duration counts 0
    # window (as_of - 30 days, as_of]: 2026-05-16 12:00 exactly is out, one second later is in
    assert row["visits_last_30d"] == 1 and row["visits_last_90d"] == 3 and row["visits_last_365d"] == 4
    # days between first and last = 76 (floor), over 3 gaps = 25.333 -> 25.3
    assert row["avg_days_between_visits"] == Decimal("25.3")
    assert row["days_since_last_visit"] == 29 and row["tenure_days"] == 106
    assert row["predicted_next_visit_at"] == ts("2026-06-10 19:12:01+00")   # + 25.3 days
    assert row["is_overdue"] is False                                      # 29 <= 1.5 * 25.3
    assert row["customer_segment"] == "ACTIVE"


def test_overdue_and_single_visit(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "LATE"); d.customer(org, "ONCE")
    d.booking(org, "LATE", loc, "2026-01-01 00:00+00"); d.booking(org, "LATE", loc, "2026-01-11 00:00+00")
    d.booking(org, "ONCE", loc, "2026-01-11 00:00+00")
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    late, once = customer_row(conn, org, "LATE"), customer_row(conn, org, "ONCE")
    assert late["avg_days_between_visits"] == Decimal("10.0") and late["is_overdue"] is True
    assert once["avg_days_between_visits"] is None and once["predicted_next_visit_at"] is None
    assert once["is_overdue"] is False


def test_preferred_values_ties(conn):
    d = SourceData(); org = d.org(); loc_a = d.location(org, "A"); loc_b = d.location(org, "B")
    tech_1, tech_2, svc_1, svc_2 = d.ident(), d.ident(), d.ident(), d.ident()
    low_tech, high_tech = sorted([tech_1, tech_2], key=lambda u: u.bytes)
    d.customer(org, "TIE")
    # two visits each at A and B: B's latest visit is more recent -> B
    d.booking(org, "TIE", loc_a, "2026-05-01 10:00+00", technician=tech_1, service=svc_1)
    d.booking(org, "TIE", loc_a, "2026-05-02 10:00+00", technician=tech_2, service=svc_1)
    d.booking(org, "TIE", loc_b, "2026-05-03 10:00+00", technician=tech_1, service=svc_2)
    d.booking(org, "TIE", loc_b, "2026-05-04 10:00+00", technician=None, service=svc_2)
    # technicians: 2 visits tech_1 (latest 05-03), 1 visit tech_2 -> tech_1 by count, NULL ignored
    # services: 2 and 2, svc_2 latest -> svc_2
    d.customer(org, "SAMETIME")
    d.booking(org, "SAMETIME", loc_a, "2026-05-05 10:00+00", technician=tech_1, booking_id="a-1")
    d.booking(org, "SAMETIME", loc_b, "2026-05-05 10:00+00", technician=tech_2, booking_id="B-2")
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    tie = customer_row(conn, org, "TIE")
    assert tie["preferred_location_id"] == loc_b
    assert tie["preferred_technician_id"] == tech_1
    assert tie["preferred_service_variation_id"] == svc_2
    assert (tie["distinct_locations"], tie["distinct_technicians"], tie["distinct_services"]) == (2, 2, 2)
    assert tie["first_visit_location_id"] == loc_a and tie["last_visit_location_id"] == loc_b
    same = customer_row(conn, org, "SAMETIME")
    # same count, same latest visit: the smallest value wins
    assert same["preferred_technician_id"] == low_tech
    assert same["preferred_location_id"] == min([loc_a, loc_b], key=lambda u: u.bytes)
    # first/last visit location at the same instant: smallest booking id bytewise ('B-2' < 'a-1')
    assert same["first_visit_location_id"] == loc_b and same["last_visit_location_id"] == loc_b


def test_preferred_weekday_is_in_business_time_across_dst(conn):
    d = SourceData()
    ny = d.org(timezone="America/New_York"); ny_loc = d.location(ny)
    berlin = d.org(timezone="Europe/Berlin"); berlin_loc = d.location(berlin)
    utc_org = d.org(); utc_loc = d.location(utc_org)
    # 23:30 local on Sunday 2026-03-08, the night New York springs forward (EDT, UTC-4)
    d.customer(ny, "NIGHT"); d.booking(ny, "NIGHT", ny_loc, "2026-03-09 03:30+00")
    # 23:30 local on Sunday 2026-03-29, the night Berlin springs forward (CEST, UTC+2)
    d.customer(berlin, "NIGHT"); d.booking(berlin, "NIGHT", berlin_loc, "2026-03-29 21:30+00")
    # 23:30 local on Saturday 2026-10-24, the eve of Berlin's fall back (still CEST)
    d.customer(berlin, "FALL"); d.booking(berlin, "FALL", berlin_loc, "2026-10-24 21:30+00")
    d.customer(utc_org, "NIGHT"); d.booking(utc_org, "NIGHT", utc_loc, "2026-03-09 03:30+00")
    load(conn, d.tables); refresh(conn, as_of=ts("2026-11-01 00:00+00"))
    assert customer_row(conn, ny, "NIGHT")["preferred_weekday"] == 7       # Sunday in New York
    assert customer_row(conn, berlin, "NIGHT")["preferred_weekday"] == 7   # Sunday in Berlin
    assert customer_row(conn, berlin, "FALL")["preferred_weekday"] == 6    # Saturday in Berlin
    assert customer_row(conn, utc_org, "NIGHT")["preferred_weekday"] == 1  # Monday in UTC (no zone set)


def test_bookings_without_profile_belong_to_nobody(conn):
    d = SourceData(); org = d.org(); loc = d.location(org); other = d.org(); d.location(other)
    d.customer(org, "KNOWN")
    d.customer(other, "ELSEWHERE")
    d.booking(org, None, loc, "2026-06-01 10:00+00")
    d.booking(org, "GHOST", loc, "2026-06-01 10:00+00")
    d.booking(org, "ELSEWHERE", loc, "2026-06-01 10:00+00")   # a profile, but of another organization
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    rows = table_rows(conn)
    assert set(rows) == {(org, "KNOWN"), (other, "ELSEWHERE")}
    assert rows[(other, "ELSEWHERE")]["total_bookings"] == 0
