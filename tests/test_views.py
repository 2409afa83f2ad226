"""analytics_appointments_by_location_daily (contract section 5)."""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from builder import SourceData, ts
from conftest import load, refresh
from randomdata import generate
from reference import (ACCEPTED, BOOKING_STATUSES, CANCELLED_BY_CUSTOMER, CANCELLED_BY_SELLER, NO_SHOW,
                       org_zone, _settings)

AS_OF = ts("2026-06-15 12:00+00")


def daily(conn, organization_id):
    return {(r["location_name"], r["date"]): r for r in conn.execute(
        "SELECT * FROM analytics_appointments_by_location_daily WHERE organization_id = %s",
        [organization_id])}


def test_new_customers_are_counted_on_their_first_visit_day_and_location(conn):
    d = SourceData(); org = d.org(timezone="America/New_York")
    salon, spa = d.location(org, "Salon"), d.location(org, "Spa")
    # profile created in January; booked in May for June 1; first visit June 1 at the Spa
    d.customer(org, "NEWBIE", created_at="2026-01-10 15:00+00")
    d.booking(org, "NEWBIE", spa, "2026-06-01 14:00+00")
    d.booking(org, "NEWBIE", salon, "2026-06-08 14:00+00")
    # a regular at the Spa on June 1, first seen long before
    d.customer(org, "REGULAR"); d.booking(org, "REGULAR", spa, "2026-01-05 14:00+00")
    d.booking(org, "REGULAR", spa, "2026-06-01 16:00+00")
    # a walk-in without a profile, a cancellation and a no-show the same day
    d.booking(org, None, spa, "2026-06-01 17:00+00")
    d.booking(org, "REGULAR", spa, "2026-06-01 18:00+00", status="CANCELLED_BY_SELLER")
    d.booking(org, "NEWBIE", spa, "2026-06-01 19:00+00", status="NO_SHOW")
    # 23:30 in New York on June 1 is June 2 in UTC: it belongs to June 1
    d.booking(org, "REGULAR", spa, "2026-06-02 03:30+00")
    # an upcoming accepted booking shows on its future day
    d.booking(org, "REGULAR", salon, "2026-06-20 14:00+00")
    # local midnight belongs to the day it starts, the second before it to the day before
    d.booking(org, "REGULAR", salon, "2026-06-04 04:00+00")
    d.booking(org, "NEWBIE", salon, "2026-06-04 03:59:59+00")
    load(conn, d.tables)
    refresh(conn, as_of=AS_OF)
    rows = daily(conn, org)
    june1 = rows[("Spa", date(2026, 6, 1))]
    assert june1["appointments_count"] == 4           # newbie, regular twice, walk-in
    assert june1["cancelled_appointments"] == 1 and june1["no_show_appointments"] == 1
    assert june1["unique_customers"] == 2             # walk-in has no profile
    assert june1["new_customers"] == 1 and june1["returning_customers"] == 1
    assert ("Spa", date(2026, 6, 2)) not in rows
    assert rows[("Salon", date(2026, 6, 8))]["new_customers"] == 0      # second visit: returning
    assert rows[("Salon", date(2026, 6, 8))]["returning_customers"] == 1
    assert rows[("Salon", date(2026, 6, 20))]["appointments_count"] == 1
    assert rows[("Salon", date(2026, 6, 4))]["appointments_count"] == 1
    assert rows[("Salon", date(2026, 6, 3))]["appointments_count"] == 1
    assert not any(day == date(2026, 1, 10) for _, day in rows)           # profile creation day: nothing


def expected_daily(data: dict, first_visits: list[dict]) -> dict:
    """Contract section 5 computed in Python from the source rows: (org, location, day) -> counts.
    new_customers comes from the stored first visits, as the contract says (customer_analytics)."""
    zones = {org["id"]: org_zone(_settings(org)) for org in data["organizations"]}
    profiles = {(row["organization_id"], row["square_customer_id"]) for row in data["square_existing_clients"]}
    rows: dict = {}
    for booking in data["bookings"]:
        if booking["status"] not in BOOKING_STATUSES:
            continue
        org = booking["organization_id"]
        day = booking["start_at"].astimezone(zones[org]).date()
        row = rows.setdefault((org, booking["location_id"], day), {
            "appointments_count": 0, "cancelled_appointments": 0, "no_show_appointments": 0,
            "customers": set(), "new_customers": 0})
        row["appointments_count"] += booking["status"] == ACCEPTED
        row["cancelled_appointments"] += booking["status"] in (CANCELLED_BY_CUSTOMER, CANCELLED_BY_SELLER)
        row["no_show_appointments"] += booking["status"] == NO_SHOW
        if booking["status"] == ACCEPTED and (org, booking["customer_id"]) in profiles:
            row["customers"].add(booking["customer_id"])
    for visit in first_visits:
        day = visit["first_booking_at"].astimezone(zones[visit["organization_id"]]).date()
        key = (visit["organization_id"], visit["first_visit_location_id"], day)
        if key in rows:     # a first visit always has its ACCEPTED booking on that day
            rows[key]["new_customers"] += 1
    for row in rows.values():
        row["unique_customers"] = len(row.pop("customers"))
        row["returning_customers"] = row["unique_customers"] - row["new_customers"]
    return rows


def assert_rows_follow_the_contract(conn, data: dict, rows: list[dict]) -> dict:
    """rows (the view's or the function's) are exactly expected_daily(data); returns that."""
    first_visits = conn.execute(
        "SELECT organization_id, first_visit_location_id, first_booking_at FROM customer_analytics "
        "WHERE first_booking_at IS NOT NULL").fetchall()
    expected = expected_daily(data, first_visits)
    columns = ("appointments_count", "cancelled_appointments", "no_show_appointments",
               "unique_customers", "new_customers", "returning_customers")
    actual = {(r["organization_id"], r["location_id"], r["date"]): {c: r[c] for c in columns} for r in rows}
    assert actual.keys() == expected.keys()
    mismatches = [(key, actual[key], expected[key]) for key in expected if actual[key] != expected[key]]
    assert not mismatches, "\n".join(map(str, mismatches[:5]))
    return expected


def test_daily_view_equals_the_contract_computed_in_python(conn):
    # unknown statuses, bookings without a customer or with an unknown one, double bookings,
    # cancel-only days and bookings at 23:30 / 00:30 local time around DST changes
    data = generate(11, AS_OF, n_orgs=3, customers_per_org=200)
    load(conn, data)
    refresh(conn, as_of=AS_OF)
    expected = assert_rows_follow_the_contract(
        conn, data, conn.execute("SELECT * FROM analytics_appointments_by_location_daily").fetchall())
    # the data exercised what this compares
    assert sum(row["new_customers"] for row in expected.values()) > 100
    assert any(0 < row["unique_customers"] < row["appointments_count"] for row in expected.values())
    assert any(row["appointments_count"] == 0 for row in expected.values())


# -- analytics_appointments_by_location_daily_between: the view's index-friendly form ------------

def view_days(conn, organization_id, first=None, last=None):
    return conn.execute(
        """SELECT * FROM analytics_appointments_by_location_daily
            WHERE organization_id = %(org)s
              AND (%(first)s::date IS NULL OR date >= %(first)s)
              AND (%(last)s::date IS NULL OR date <= %(last)s)
            ORDER BY location_id, date""", {"org": organization_id, "first": first, "last": last}).fetchall()


def function_days(conn, organization_id, first=None, last=None):
    return conn.execute(
        """SELECT * FROM analytics_appointments_by_location_daily_between(%s, %s, %s)
            ORDER BY location_id, date""", [organization_id, first, last]).fetchall()


def dst_change_days(zone_name: str, years=(2025, 2026)) -> list[date]:
    """The local days on which the zone's UTC offset changes (DST starts or ends)."""
    zone = ZoneInfo(zone_name)
    days = []
    for year in years:
        day = date(year, 1, 1)
        while day.year == year:
            noon_before = datetime.combine(day - timedelta(days=1), time(12), zone).utcoffset()
            if datetime.combine(day, time(12), zone).utcoffset() != noon_before:
                days.append(day)
            day += timedelta(days=1)
    return days


def test_daily_between_equals_the_view_for_every_range(conn):
    load(conn, generate(7, AS_OF, n_orgs=3, customers_per_org=150))
    refresh(conn, as_of=AS_OF)
    organizations = conn.execute("SELECT id, settings->>'timezone' AS zone FROM organizations").fetchall()
    rng = random.Random(7)
    compared = 0
    for org in organizations:
        everything = view_days(conn, org["id"])
        assert everything and function_days(conn, org["id"]) == everything   # unbounded = the view
        days = sorted({row["date"] for row in everything})
        # single days around each DST change (local midnight moves against UTC), random spans
        ranges = [(day + timedelta(days=shift), day + timedelta(days=shift))
                  for day in dst_change_days(org["zone"] or "UTC") for shift in (-1, 0, 1)]
        ranges += [(start, start + timedelta(days=rng.choice((0, 6, 30, 89))))
                   for start in rng.sample(days, 12)]
        ranges += [(None, days[len(days) // 2]), (days[len(days) // 2], None)]
        for first, last in ranges:
            expected = view_days(conn, org["id"], first, last)
            assert function_days(conn, org["id"], first, last) == expected, (org["zone"], first, last)
            compared += len(expected)
    assert compared > 500    # the ranges were not all empty


# zones whose clocks change at local midnight (Havana, Santiago, Beirut: a day starts at 01:00
# or twice), by half an hour (Lord Howe), or the usual way (Berlin, New York)
ODD_ZONES = ("America/Havana", "America/Santiago", "Asia/Beirut", "Australia/Lord_Howe",
             "Europe/Berlin", "America/New_York")


def test_business_days_are_exact_on_every_kind_of_dst_day(conn):
    # bookings every 20 minutes over the three days around each DST change of 2025-2026 and a
    # plain week, compared with the business day Python's zoneinfo gives each booking: the
    # function takes a chunk's day without converting its bookings only on plain days, and a
    # day that starts twice (Havana, November) has customers on both sides of its first hour,
    # who count once
    d = SourceData()
    changes = 0
    plain_week = {date(2026, 2, 9) + timedelta(days=n) for n in range(7)}
    for zone_name in ODD_ZONES:
        zone = ZoneInfo(zone_name)
        org = d.org(timezone=zone_name)
        location = d.location(org)
        customers = [d.customer(org, f"{zone_name}-{n}") for n in range(5)]
        dst_days = dst_change_days(zone_name)
        changes += len(dst_days)
        days = sorted({day + timedelta(days=shift) for day in dst_days for shift in (-1, 0, 1)} | plain_week)
        for step, instant in enumerate(
                datetime.combine(days[0] - timedelta(days=1), time(0), ZoneInfo("UTC")) + timedelta(minutes=20 * n)
                for n in range(((days[-1] - days[0]).days + 3) * 72)):
            if instant.astimezone(zone).date() in days:
                # a walk-in every seventh booking: unique_customers counts profiles only
                d.booking(org, customers[step % 5] if step % 7 else None, location, instant)
    assert changes >= 20   # every zone changed its clocks in those years (Havana, Santiago, ...)
    load(conn, d.tables)
    refresh(conn, as_of=AS_OF)
    assert_rows_follow_the_contract(conn, d.tables, [
        row for org in d.tables["organizations"]
        for row in function_days(conn, org["id"], date(2024, 12, 1), date(2027, 1, 31))])


@pytest.mark.parametrize("arguments, sqlstate, named", [
    ("NULL, NULL, NULL", "22004", "organization"),
    ("'00000000-0000-0000-0000-000000000001', NULL, NULL", "22023", "00000000-0000-0000-0000-000000000001"),
    ("(SELECT id FROM organizations LIMIT 1), '2026-06-02', '2026-06-01'", "22023", "2026-06-02"),
])
def test_daily_between_refuses_bad_input_by_name(conn, arguments, sqlstate, named):
    d = SourceData(); d.org(timezone="Europe/Berlin")
    load(conn, d.tables)
    with pytest.raises(psycopg.Error) as error:
        conn.execute(f"SELECT * FROM analytics_appointments_by_location_daily_between({arguments})")
    assert error.value.diag.sqlstate == sqlstate
    assert named in error.value.diag.message_primary and error.value.diag.message_hint
