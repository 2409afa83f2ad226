"""Hand-built source data for the tests that pin one definition of the contract at a time.

    data = SourceData()
    org = data.org(timezone="Europe/Berlin")
    loc = data.location(org)
    data.customer(org, "ANNA")
    data.booking(org, "ANNA", loc, "2026-06-01 10:00+00")               # ACCEPTED by default
    data.payment(org, "ANNA", loc, 5000, tip=500, created_at="2026-06-01 11:00+00")
    load(conn, data.tables)

Timestamps are given as ISO strings with an offset; ids are deterministic.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime


def ts(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value.replace(" ", "T"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without offset in a test: {value}")
    return parsed


class SourceData:
    def __init__(self):
        self.tables: dict[str, list[dict]] = {t: [] for t in (
            "organizations", "locations", "square_existing_clients", "bookings", "payments",
            "referral_profiles", "referral_rewards")}
        self._ids = itertools.count(1)

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=next(self._ids) + (0xABCD << 64))

    def org(self, timezone: str | None = None, **settings) -> uuid.UUID:
        org_id = self._uuid()
        if timezone:
            settings["timezone"] = timezone
        self.tables["organizations"].append({"id": org_id, "name": f"org {org_id.int & 0xFFFF}",
                                              "settings": settings})
        return org_id

    def location(self, org: uuid.UUID, name: str = "Main") -> uuid.UUID:
        loc_id = self._uuid()
        self.tables["locations"].append({"id": loc_id, "organization_id": org, "name": name})
        return loc_id

    def ident(self) -> uuid.UUID:
        """An opaque id (technician, service variation)."""
        return self._uuid()

    def customer(self, org, customer_id, created_at="2025-01-01 00:00+00", **columns):
        row = {"organization_id": org, "square_customer_id": customer_id,
               "given_name": None, "family_name": None, "email_address": None, "phone_number": None,
               "created_at": ts(created_at), "updated_at": ts(created_at),
               "activated_as_referrer": None, "personal_code": None, "referral_code": None,
               "used_referral_code": None, "creation_source": None, "acquisition_source": None}
        row.update(columns)
        self.tables["square_existing_clients"].append(row)
        return customer_id

    def booking(self, org, customer_id, location, start_at, status="ACCEPTED", booking_id=None,
                technician=None, service=None, duration=60, customer_note=None, seller_note=None):
        booking_uuid = self._uuid()
        self.tables["bookings"].append({
            "id": booking_uuid, "organization_id": org,
            "booking_id": booking_id or f"BK{booking_uuid.int & 0xFFFFFF:08d}",
            "customer_id": customer_id, "location_id": location, "technician_id": technician,
            "service_variation_id": service, "start_at": ts(start_at), "status": status,
            "duration_minutes": duration, "customer_note": customer_note, "seller_note": seller_note,
            "created_at": ts(start_at), "updated_at": ts(start_at)})
        return booking_uuid

    def payment(self, org, customer_id, location, amount, tip=None, status="COMPLETED",
                created_at="2026-01-01 12:00+00", booking=None):
        payment_uuid = self._uuid()
        self.tables["payments"].append({
            "id": payment_uuid, "organization_id": org, "payment_id": f"PAY{payment_uuid.int & 0xFFFFFF}",
            "customer_id": customer_id, "booking_id": booking, "location_id": location,
            "amount_money_amount": amount, "tip_money_amount": tip,
            "total_money_amount": amount + (tip or 0), "status": status,
            "created_at": ts(created_at), "updated_at": ts(created_at)})
        return payment_uuid

    def referral_profile(self, org, customer_id, activated_at=None, personal_code=None):
        self.tables["referral_profiles"].append({
            "organization_id": org, "square_customer_id": customer_id, "personal_code": personal_code,
            "referral_code": None, "activated_at": ts(activated_at)})

    def reward(self, org, referrer, referred, cents, status="PAID", created_at="2026-01-01 00:00+00"):
        self.tables["referral_rewards"].append({
            "id": self._uuid(), "organization_id": org, "referrer_customer_id": referrer,
            "referred_customer_id": referred, "reward_amount_cents": cents, "status": status,
            "created_at": ts(created_at)})
