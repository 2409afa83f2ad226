"""Random source data for the customer_analytics tests, full of the contract's edge cases.

    generate(seed, as_of, n_orgs=3, customers_per_org=400) -> data

`data` has the shape tests/reference.py reads: table name -> list of row dicts with the column
names of db/source/0001-reference-source-schema.sql. Deterministic for a seed (one
random.Random, uuids from its bits). Timestamps are tz-aware UTC with whole seconds, except
payments.created_at / updated_at, which are naive UTC like the reference schema's
`timestamp without time zone` columns. Edge cases covered on purpose:

  * organizations in America/New_York, Europe/Berlin (with overridden segment thresholds) and
    none (UTC fallback); bookings at 23:30 / 00:30 local time around each zone's DST changes;
  * bookings exactly at as_of and exactly on the window edges (as_of - N days, +/- 1 second);
  * all booking statuses plus unknown ones, NULL / unknown customer ids, NULL technician,
    service and duration, blank and odd notes, double bookings at one start_at with booking ids
    that sort differently bytewise than in a natural collation, equal visit counts per
    location / technician / service;
  * payments of every status, NULL tips, created after as_of, without booking or customer;
  * referral codes in other case with spaces, shared codes, self-referral, blank and unknown
    codes; referral rewards of every status with duplicates and referrers without a profile.
"""

from __future__ import annotations

import random
import string
import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc

ORG_SETTINGS = (
    {"timezone": "America/New_York"},
    {"timezone": "Europe/Berlin", "segment_new_days": 20, "segment_active_days": 60,
     "segment_at_risk_days": 120},
    {},
)

BOOKING_STATUS_WEIGHTS = (
    ("ACCEPTED", 62), ("PENDING", 8), ("CANCELLED_BY_CUSTOMER", 10),
    ("CANCELLED_BY_SELLER", 5), ("NO_SHOW", 7), ("DECLINED", 6),
    ("WEIRD", 1), ("accepted", 0.5),  # unknown statuses: counted nowhere
)
PAYMENT_STATUS_WEIGHTS = (
    ("COMPLETED", 75), ("APPROVED", 8), ("PENDING", 5), ("CANCELED", 6), ("FAILED", 6),
)
REWARD_STATUSES = ("PENDING", "PAID", "FAILED", "CANCELLED")

GIVEN_NAMES = ("Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ines",
               "Jonas", "Kim", "Lena", "Marta", "Noah", "Olga", "Paul", "Zoë", "Émile")
FAMILY_NAMES = ("Meyer", "Smith", "García", "Nguyen", "Kowalski", "O'Brien", "Rossi", "Müller")
CREATION_SOURCES = ("APPOINTMENTS", "DIRECTORY", "THIRD_PARTY", "MERGE", "IMPORT", None)
ACQUISITION_SOURCES = ("instagram", "google", "walk_in", "referral", "flyer", None)
NOTE_TEXTS = (
    "Please use the quiet room", "Allergic to latex", "  prefers short cuts  ",
    "Kürzer bitte ✂️", 'Said "see you soon"', "back\\slash and {braces}", "Late by 10 min",
    "Line one\nline two", "VIP", "Paid cash",
)
BLANK_NOTES = ("", " ", "   ")
ODD_NOTES = ("\t", " \n ")  # btrim() trims spaces only: these are NOT blank

ALNUM = string.ascii_letters + string.digits


class _Gen:
    def __init__(self, seed: int, as_of: datetime):
        self.rng = random.Random(seed)
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        self.as_of = as_of.astimezone(UTC)
        self.data: dict[str, list[dict]] = {
            "organizations": [], "locations": [], "square_existing_clients": [],
            "bookings": [], "payments": [], "referral_profiles": [], "referral_rewards": [],
        }

    # ---- primitives -------------------------------------------------------------------------

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick_weighted(self, weighted):
        values, weights = zip(*weighted)
        return self.rng.choices(values, weights=weights)[0]

    def alnum(self, n: int) -> str:
        return "".join(self.rng.choice(ALNUM) for _ in range(n))

    def instant_between(self, lo: datetime, hi: datetime) -> datetime:
        seconds = int((hi - lo).total_seconds())
        return lo + timedelta(seconds=self.rng.randint(0, max(seconds, 0)))

    def local_slot(self, zone: ZoneInfo, day: date) -> datetime:
        """A business-hours start on a local day, in UTC, whole seconds (mostly whole minutes)."""
        local = datetime.combine(day, time(self.rng.randint(8, 19),
                                           self.rng.choice((0, 15, 30, 45))), tzinfo=zone)
        ts = local.astimezone(UTC)
        if self.chance(0.05):
            ts += timedelta(seconds=self.rng.randint(1, 59))
        return ts

    # ---- organizations ----------------------------------------------------------------------

    def organization(self, index: int) -> dict:
        settings = dict(ORG_SETTINGS[index % len(ORG_SETTINGS)])
        org_id = self.uid()
        created = self.as_of - timedelta(days=4 * 365 + self.rng.randint(0, 300))
        self.data["organizations"].append({
            "id": org_id, "name": f"Salon {index + 1}", "settings": settings,
            "created_at": created, "updated_at": created,
        })
        zone = ZoneInfo(settings.get("timezone", "UTC"))
        locations = []
        for n in range(self.rng.randint(2, 4)):
            loc = {"id": self.uid(), "organization_id": org_id, "name": f"Salon {index + 1} / {n + 1}"}
            self.data["locations"].append(loc)
            locations.append(loc["id"])
        return {
            "id": org_id, "zone": zone, "locations": locations,
            "technicians": [self.uid() for _ in range(self.rng.randint(3, 6))],
            "services": [self.uid() for _ in range(self.rng.randint(3, 6))],
            "booking_ids": set(), "booking_seq": 0, "payment_seq": 0,
            "customers": [], "profiles": [],
        }

    # ---- profiles ---------------------------------------------------------------------------

    def profiles(self, org: dict, count: int) -> None:
        used_ids: set[str] = set()
        rows = []
        for _ in range(count):
            while True:
                cid = "C" + self.alnum(self.rng.randint(6, 12))
                if cid not in used_ids:
                    break
            used_ids.add(cid)
            given = self.rng.choice(GIVEN_NAMES)
            created = self.instant_between(self.as_of - timedelta(days=4 * 365), self.as_of)
            personal = None
            if self.chance(0.8):
                personal = f"{given.upper()}{self.rng.randint(10, 99)}"
                if self.chance(0.05):
                    personal = f" {personal.lower()} "  # stored with spaces, other case
            referral = None
            if self.chance(0.3):
                referral = "REF-" + self.alnum(5).upper()
            rows.append({
                "organization_id": org["id"],
                "square_customer_id": cid,
                "given_name": None if self.chance(0.1) else given,
                "family_name": None if self.chance(0.15) else self.rng.choice(FAMILY_NAMES),
                "email_address": None if self.chance(0.2) else f"{cid.lower()}@example.com",
                "phone_number": None if self.chance(0.25) else f"+1555{self.rng.randint(0, 9999999):07d}",
                "created_at": created,
                "updated_at": created + timedelta(days=self.rng.randint(0, 30)),
                "activated_as_referrer": self.rng.choice((True, False, None)),
                "personal_code": personal,
                "referral_code": referral,
                "used_referral_code": None,
                "creation_source": self.rng.choice(CREATION_SOURCES),
                "acquisition_source": self.rng.choice(ACQUISITION_SOURCES),
            })
        # A few shared codes (same code in other case) so "smallest square_customer_id" matters.
        with_code = [r for r in rows if r["personal_code"]]
        for _ in range(max(1, count // 50) if len(with_code) >= 2 else 0):
            a, b = self.rng.sample(with_code, 2)
            b["personal_code"] = a["personal_code"].strip().swapcase()
        # used_referral_code: other customer's code (other case, spaces), own code, blank, unknown
        for r in rows:
            roll = self.rng.random()
            if roll < 0.45:
                continue
            if roll < 0.70 and with_code:
                other = self.rng.choice(with_code + [x for x in rows if x["referral_code"]])
                code = other["referral_code"] if (other["referral_code"] and self.chance(0.4)) \
                    else (other["personal_code"] or other["referral_code"])
                code = code.strip()
                code = self.rng.choice((code, code.lower(), code.swapcase()))
                r["used_referral_code"] = self.rng.choice(("", " ", "  ")) + code + \
                    self.rng.choice(("", " ", "   "))
            elif roll < 0.77:
                own = r["personal_code"] or r["referral_code"]
                r["used_referral_code"] = (" " + own.lower() + " ") if own else "SELF00"
            elif roll < 0.87:
                r["used_referral_code"] = self.rng.choice(("", "  ", "   "))
            else:
                r["used_referral_code"] = "NOPE" + str(self.rng.randint(0, 99))
        self.data["square_existing_clients"].extend(rows)
        org["profiles"] = rows
        org["customers"] = [r["square_customer_id"] for r in rows]

    # ---- bookings ---------------------------------------------------------------------------

    def booking_id(self, org: dict, seq: int | None = None, suffix: str | None = None) -> str:
        while True:
            if seq is None:
                org["booking_seq"] += 1
                n = org["booking_seq"]
            else:
                n = seq
            bid = f"B{n:07d}" + (suffix if suffix is not None else self.alnum(3))
            if bid not in org["booking_ids"]:
                org["booking_ids"].add(bid)
                return bid
            suffix = None  # collision of a forced suffix: fall back to a random one

    def note(self, p_text: float) -> str | None:
        roll = self.rng.random()
        if roll < p_text:
            return self.rng.choice(NOTE_TEXTS)
        if roll < p_text + 0.08:
            return self.rng.choice(BLANK_NOTES)
        if roll < p_text + 0.085:
            return self.rng.choice(ODD_NOTES)
        return None

    def booking(self, org: dict, customer_id: str | None, start_at: datetime, *,
                status: str | None = None, location_id=None, technician_id="random",
                service_id="random", booking_id: str | None = None) -> dict:
        rng = self.rng
        if status is None:
            status = self.pick_weighted(BOOKING_STATUS_WEIGHTS)
        if technician_id == "random":
            technician_id = None if self.chance(0.1) else rng.choice(org["technicians"])
        if service_id == "random":
            service_id = None if self.chance(0.1) else rng.choice(org["services"])
        created = start_at - timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 600))
        row = {
            "id": self.uid(),
            "organization_id": org["id"],
            "booking_id": booking_id or self.booking_id(org),
            "customer_id": customer_id,
            "location_id": location_id or rng.choice(org["locations"]),
            "technician_id": technician_id,
            "service_variation_id": service_id,
            "start_at": start_at,
            "status": status,
            "duration_minutes": None if self.chance(0.08) else rng.choice((15, 30, 45, 60, 90, 120)),
            "customer_note": self.note(0.12),
            "seller_note": self.note(0.10),
            "created_at": created,
            "updated_at": created + timedelta(minutes=rng.randint(0, 3000)),
        }
        self.data["bookings"].append(row)
        return row

    def random_day(self, lo_days: int = -3 * 365, hi_days: int = 60) -> date:
        local_as_of = self.as_of.date()
        return local_as_of + timedelta(days=self.rng.randint(lo_days, hi_days))

    def customer_bookings(self, org: dict, cid: str) -> None:
        rng, zone = self.rng, org["zone"]
        kind = rng.random()
        if kind < 0.22:
            return  # no booking at all (prospect)
        if kind < 0.27:
            # newcomer: first visit within the last few weeks, maybe one more to come
            for day_back in sorted(rng.sample(range(-30, 28), rng.randint(1, 3)), reverse=True):
                self.booking(org, cid, self.local_slot(zone, self.as_of.date() - timedelta(days=day_back)),
                             status=rng.choice(("ACCEPTED", "ACCEPTED", "ACCEPTED", "PENDING")))
            return
        if kind < 0.57:
            for _ in range(rng.randint(1, 2)):
                self.booking(org, cid, self.local_slot(zone, self.random_day()))
            return
        if kind < 0.80:
            for _ in range(rng.randint(3, 9)):
                self.booking(org, cid, self.local_slot(zone, self.random_day()))
            return
        if kind < 0.90:
            # weekly (or fortnightly) regular with favourites, possibly continuing into the future
            step = rng.choice((7, 7, 14))
            n = rng.randint(8, 30)
            start = self.random_day(-3 * 365, -n * step // 2)
            loc, tech, svc = (rng.choice(org["locations"]), rng.choice(org["technicians"]),
                              rng.choice(org["services"]))
            slot_hour = self.local_slot(zone, start).astimezone(zone).time()
            for i in range(n):
                day = start + timedelta(days=i * step)
                if day > self.as_of.date() + timedelta(days=60):
                    break
                ts = datetime.combine(day, slot_hour, tzinfo=zone).astimezone(UTC)
                fav = self.chance(0.8)
                self.booking(org, cid, ts,
                             status=self.pick_weighted((("ACCEPTED", 85), ("NO_SHOW", 5),
                                                        ("CANCELLED_BY_CUSTOMER", 7),
                                                        ("PENDING", 3))),
                             location_id=loc if fav else None,
                             technician_id=tech if fav else "random",
                             service_id=svc if fav else "random")
            return
        # occasional customer, 9..20 random bookings
        for _ in range(rng.randint(9, 20)):
            self.booking(org, cid, self.local_slot(zone, self.random_day()))

    def edge_bookings(self, org: dict) -> None:
        """Hand-placed bookings for the edges of the contract."""
        rng, zone, as_of = self.rng, org["zone"], self.as_of
        customers = org["customers"]
        if not customers:
            return

        def someone() -> str:
            return rng.choice(customers)

        def some(k: int) -> list[str]:
            return rng.sample(customers, min(k, len(customers)))

        # exactly at as_of: ACCEPTED is a visit, PENDING/ACCEPTED there is not upcoming
        for status in ("ACCEPTED", "ACCEPTED", "PENDING", "NO_SHOW"):
            self.booking(org, someone(), as_of, status=status)
        # window edges: (as_of - N days, as_of]
        for n in (20, 30, 45, 60, 90, 120, 365):
            edge = as_of - timedelta(days=n)
            for delta in (timedelta(0), timedelta(seconds=1), timedelta(seconds=-1)):
                self.booking(org, someone(), edge + delta, status="ACCEPTED")
            # a customer whose only visit sits exactly on the edge (segment boundaries)
            self.booking(org, someone(), edge, status="ACCEPTED")
        # one second after as_of: upcoming
        for status in ("ACCEPTED", "PENDING", "DECLINED"):
            self.booking(org, someone(), as_of + timedelta(seconds=1), status=status)

        # bookings belonging to nobody
        for _ in range(15):
            self.booking(org, None, self.local_slot(zone, self.random_day()), status="ACCEPTED")
            self.booking(org, "CNOPROFILE" + self.alnum(4), self.local_slot(zone, self.random_day()))

        # DST: 23:30 and 00:30 local on the days around each change of the org's zone (the UTC
        # org gets New York's days: no change there, but the dates are still interesting)
        dst_zone = zone if zone.key != "UTC" else ZoneInfo("America/New_York")
        night_owls = some(4)
        for change in self.dst_changes(dst_zone):
            for offset in (-1, 0, 1):
                day = change + timedelta(days=offset)
                for hh, mm in ((23, 30), (0, 30)):
                    ts = datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)
                    self.booking(org, rng.choice(night_owls), ts,
                                 status=rng.choice(("ACCEPTED", "ACCEPTED", "PENDING")))
        # a customer whose visits are all late evening local time (weekday differs from UTC's)
        owl = someone()
        for _ in range(rng.randint(2, 5)):
            day = self.random_day(-400, -1)
            hh, mm = (23, 30) if zone.key != "Europe/Berlin" else (0, 30)
            ts = datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)
            self.booking(org, owl, ts, status="ACCEPTED")

        # ties for the modes: equal counts per location / technician / service
        for _ in range(12):
            cid = someone()
            locs = rng.sample(org["locations"], 2)
            techs = rng.sample(org["technicians"], 2)
            svcs = rng.sample(org["services"], 2)
            if self.chance(0.5):
                # equal counts, different latest visit: most recent decides
                for i, day_back in enumerate(rng.sample(range(5, 700), 4)):
                    ts = self.local_slot(zone, as_of.date() - timedelta(days=day_back))
                    self.booking(org, cid, ts, status="ACCEPTED", location_id=locs[i % 2],
                                 technician_id=techs[i % 2], service_id=svcs[i % 2])
            else:
                # equal counts and the same latest instant (double booking): smallest value
                # decides; the booking ids differ only by a suffix whose bytewise order
                # ('Z' < 'a') is not a natural collation's order
                for k in range(rng.randint(1, 2)):
                    ts = self.local_slot(zone, as_of.date() - timedelta(days=rng.randint(1, 500)))
                    org["booking_seq"] += 1
                    seq = org["booking_seq"]
                    for i, suffix in enumerate(rng.sample(("a", "Z", "_", "0"), 2)):
                        self.booking(org, cid, ts, status="ACCEPTED", location_id=locs[i],
                                     technician_id=techs[i], service_id=svcs[i],
                                     booking_id=self.booking_id(org, seq, suffix))

        # same-start_at bookings with different ids, also as first/last visit and for notes
        for _ in range(10):
            cid = someone()
            ts = self.local_slot(zone, self.random_day(-800, 20))
            org["booking_seq"] += 1
            seq = org["booking_seq"]
            for suffix in ("a", "B", "b", "A"):
                row = self.booking(org, cid, ts, status=rng.choice(("ACCEPTED", "ACCEPTED", "WEIRD")),
                                   booking_id=self.booking_id(org, seq, suffix))
                row["customer_note"] = rng.choice(NOTE_TEXTS + (None,))
                row["seller_note"] = rng.choice(NOTE_TEXTS + BLANK_NOTES)

        # several customers with the very same visit count (RFM ties on square_customer_id)
        loc = rng.choice(org["locations"])
        for cid in some(8):
            for day_back in (10, 40, 70):
                self.booking(org, cid, self.local_slot(zone, as_of.date() - timedelta(days=day_back)),
                             status="ACCEPTED", location_id=loc)

    def dst_changes(self, zone: ZoneInfo) -> list[date]:
        """Local dates (within the data's range) on which the zone's UTC offset changes."""
        out = []
        day = self.as_of.date() - timedelta(days=3 * 365)
        end = self.as_of.date() + timedelta(days=60)
        prev = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
        while day < end:
            day += timedelta(days=1)
            off = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
            if off != prev:
                out.append(day)
            prev = off
        return out

    # ---- payments ---------------------------------------------------------------------------

    def payment_id(self, org: dict) -> str:
        org["payment_seq"] += 1
        return f"P{org['payment_seq']:07d}" + self.alnum(4)

    def payment(self, org: dict, customer_id: str | None, booking: dict | None,
                created_at: datetime, *, status: str | None = None,
                location_id=None) -> dict:
        rng = self.rng
        amount = rng.randint(15, 250) * 100 + rng.choice((0, 0, 50, 99))
        tip = None if self.chance(0.3) else rng.choice((0, rng.randint(1, amount // 3)))
        # timestamp(3) without time zone holding UTC: naive, at most millisecond precision
        created_at = created_at.astimezone(UTC)
        created_naive = created_at.replace(tzinfo=None,
                                           microsecond=created_at.microsecond // 1000 * 1000)
        row = {
            "id": self.uid(),
            "organization_id": org["id"],
            "payment_id": self.payment_id(org),
            "customer_id": customer_id,
            "booking_id": booking["id"] if booking else None,
            "location_id": location_id or (booking["location_id"] if booking
                                           else rng.choice(org["locations"])),
            "amount_money_amount": amount,
            "tip_money_amount": tip,
            "total_money_amount": amount + (tip or 0),
            "status": status or self.pick_weighted(PAYMENT_STATUS_WEIGHTS),
            "created_at": created_naive,
            "updated_at": created_naive + timedelta(seconds=rng.randint(0, 7200)),
        }
        self.data["payments"].append(row)
        return row

    def payments(self, org: dict) -> None:
        rng, as_of = self.rng, self.as_of
        org_bookings = [b for b in self.data["bookings"] if b["organization_id"] == org["id"]]
        for b in org_bookings:
            if b["status"] == "ACCEPTED" and b["start_at"] <= as_of:
                n = rng.choices((0, 1, 2), weights=(20, 65, 15))[0]
            elif b["status"] in ("ACCEPTED", "PENDING") and self.chance(0.05):
                n = 1  # deposit for an upcoming booking (may be created after as_of)
            else:
                n = 0
            for _ in range(n):
                created = b["start_at"] + timedelta(minutes=rng.randint(0, 180))
                if self.chance(0.05):
                    created += timedelta(days=rng.randint(1, 20))  # settled late
                customer = b["customer_id"]
                if self.chance(0.03):
                    customer = None
                self.payment(org, customer, b, created)
        customers = org["customers"] or [None]
        # payments without a booking, on window edges and after as_of
        for n in (30, 90, 365):
            edge = as_of - timedelta(days=n)
            for delta in (timedelta(0), timedelta(seconds=1), timedelta(seconds=-1)):
                self.payment(org, rng.choice(customers), None, edge + delta, status="COMPLETED")
        self.payment(org, rng.choice(customers), None, as_of, status="COMPLETED")
        for _ in range(8):
            self.payment(org, rng.choice(customers), None,
                         as_of + timedelta(hours=rng.randint(1, 24 * 30)), status="COMPLETED")
            self.payment(org, rng.choice(customers), None,
                         self.instant_between(as_of - timedelta(days=3 * 365), as_of))
        # payments belonging to nobody
        for _ in range(10):
            self.payment(org, None, None, self.instant_between(as_of - timedelta(days=400), as_of),
                         status="COMPLETED")
            self.payment(org, "CNOPROFILE" + self.alnum(4), None,
                         self.instant_between(as_of - timedelta(days=400), as_of),
                         status="COMPLETED")

    # ---- referrals --------------------------------------------------------------------------

    def referrals(self, org: dict) -> None:
        rng, as_of = self.rng, self.as_of
        for p in org["profiles"]:
            if self.chance(0.3):
                self.data["referral_profiles"].append({
                    "organization_id": org["id"],
                    "square_customer_id": p["square_customer_id"],
                    "personal_code": p["personal_code"],
                    "referral_code": p["referral_code"] if self.chance(0.7) else
                    "RP-" + self.alnum(4).upper(),
                    "activated_at": None if self.chance(0.2) else
                    self.instant_between(as_of - timedelta(days=900), as_of),
                })
        # a referral profile without a square_existing_clients row
        self.data["referral_profiles"].append({
            "organization_id": org["id"], "square_customer_id": "CGHOST" + self.alnum(5),
            "personal_code": "GHOST11", "referral_code": None,
            "activated_at": as_of - timedelta(days=10),
        })
        customers = org["customers"]
        if not customers:
            return
        referrers = rng.sample(customers, min(len(customers), max(3, len(customers) // 10)))
        referrers += ["CGHOST" + self.alnum(5) for _ in range(3)]  # referrers without profile
        for referrer in referrers:
            referred_pool = rng.sample(customers, min(len(customers), 4))
            for _ in range(rng.randint(1, 6)):
                referred = rng.choice(referred_pool)  # small pool: duplicate referred ids
                self.data["referral_rewards"].append({
                    "id": self.uid(),
                    "organization_id": org["id"],
                    "referrer_customer_id": referrer,
                    "referred_customer_id": referred,
                    "reward_amount_cents": rng.choice((500, 1000, 1500, 2500)),
                    "status": rng.choice(REWARD_STATUSES + ("PAID",)),
                    "created_at": self.instant_between(as_of - timedelta(days=700), as_of),
                })


def generate(seed: int, as_of: datetime, n_orgs: int = 3, customers_per_org: int = 400) -> dict:
    """Source data for n_orgs organizations with customers_per_org profiles each.

    Bookings span as_of - 3 years .. as_of + 60 days. Same seed and as_of -> same data.
    """
    gen = _Gen(seed, as_of)
    for index in range(n_orgs):
        org = gen.organization(index)
        gen.profiles(org, customers_per_org)
        for cid in org["customers"]:
            gen.customer_bookings(org, cid)
        gen.edge_bookings(org)
        gen.payments(org)
        gen.referrals(org)
    return gen.data
