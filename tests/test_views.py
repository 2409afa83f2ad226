"""analytics_appointments_by_location_daily (contract section 5)."""

from datetime import date

from builder import SourceData, ts
from conftest import load, refresh

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
    assert not any(day == date(2026, 1, 10) for _, day in rows)           # profile creation day: nothing
