"""booking_notes (contract section 3): non-blank notes of any booking, newest first."""

from builder import SourceData, ts
from conftest import customer_row, load, refresh

AS_OF = ts("2026-06-15 12:00+00")


def test_notes_from_both_sources_ordered_and_blank_ones_dropped(conn):
    d = SourceData(); org = d.org(timezone="Europe/Berlin"); loc = d.location(org)
    d.customer(org, "NOTED")
    d.booking(org, "NOTED", loc, "2026-05-01 10:00+00", booking_id="B-old",
              customer_note="first visit", seller_note="   ")
    d.booking(org, "NOTED", loc, "2026-06-01 10:00+00", booking_id="B-new",
              customer_note="  shorter please ", seller_note="tipped well")
    d.booking(org, "NOTED", loc, "2026-06-01 10:00+00", booking_id="A-same-time", seller_note="\tkept")
    d.booking(org, "NOTED", loc, "2026-07-01 10:00+00", booking_id="B-future", status="WEIRD",
              customer_note="unknown status still has notes")
    d.booking(org, "NOTED", loc, "2026-04-01 10:00+00", booking_id="B-blank", customer_note="", seller_note=None)
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    notes = customer_row(conn, org, "NOTED")["booking_notes"]
    assert notes == [
        {"booking_id": "B-future", "start_at": "2026-07-01T10:00:00+00:00", "source": "customer",
         "note": "unknown status still has notes"},
        {"booking_id": "A-same-time", "start_at": "2026-06-01T10:00:00+00:00", "source": "seller", "note": "\tkept"},
        {"booking_id": "B-new", "start_at": "2026-06-01T10:00:00+00:00", "source": "customer", "note": "  shorter please "},
        {"booking_id": "B-new", "start_at": "2026-06-01T10:00:00+00:00", "source": "seller", "note": "tipped well"},
        {"booking_id": "B-old", "start_at": "2026-05-01T10:00:00+00:00", "source": "customer", "note": "first visit"},
    ]


def test_notes_are_searchable_through_the_gin_index(conn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "ALLERGIC"); d.customer(org, "OTHER")
    d.booking(org, "ALLERGIC", loc, "2026-05-01 10:00+00", booking_id="B1", seller_note="latex allergy")
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    found = conn.execute("""SELECT square_customer_id FROM customer_analytics
                             WHERE booking_notes @> '[{"booking_id": "B1"}]'""").fetchall()
    assert [r["square_customer_id"] for r in found] == ["ALLERGIC"]
    assert customer_row(conn, org, "OTHER")["booking_notes"] == []
