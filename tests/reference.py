"""Independent reference implementation of the customer_analytics metric contract.

Written straight from /work/shared/spec/metrics.md (section 3), in plain Python, without
looking at the SQL. No database access; standard library only. Tests feed it the same source
rows they insert into PostgreSQL and compare its output with the table, dict for dict.

    compute_reference(data, as_of) -> {(organization_id, square_customer_id): {column: value}}

`data` maps a source table name ("organizations", "locations", "square_existing_clients",
"bookings", "payments", "referral_profiles", "referral_rewards") to a list of row dicts using
the column names of db/source/0001-reference-source-schema.sql, with the value types psycopg 3
returns. The output values have the types psycopg 3 returns for the table's columns
(datetime in UTC, UUID, str, int, bool, Decimal, list of dicts for jsonb), so `==` works.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable
from uuid import UUID
from zoneinfo import ZoneInfo

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US_PER_DAY = 86_400 * 1_000_000

# "Booking status values are Square's" -- anything else is counted nowhere.
PENDING = "PENDING"
ACCEPTED = "ACCEPTED"
DECLINED = "DECLINED"
CANCELLED_BY_CUSTOMER = "CANCELLED_BY_CUSTOMER"
CANCELLED_BY_SELLER = "CANCELLED_BY_SELLER"
NO_SHOW = "NO_SHOW"
BOOKING_STATUSES = frozenset(
    {PENDING, ACCEPTED, DECLINED, CANCELLED_BY_CUSTOMER, CANCELLED_BY_SELLER, NO_SHOW}
)
PAYMENT_COMPLETED = "COMPLETED"
REWARD_PAID = "PAID"

DEFAULT_SEGMENT_DAYS = {
    "segment_new_days": 30,
    "segment_active_days": 45,
    "segment_at_risk_days": 90,
}

# Every column of section 3 except the bookkeeping created_at / updated_at, in contract order.
COLUMNS = (
    "organization_id", "square_customer_id",
    # profile
    "given_name", "family_name", "email_address", "phone_number", "profile_created_at",
    "creation_source", "acquisition_source",
    # bookings
    "first_booking_at", "last_booking_at", "next_booking_at",
    "first_visit_location_id", "last_visit_location_id",
    "total_bookings", "total_accepted_bookings", "upcoming_bookings",
    "total_cancelled_by_customer", "total_cancelled_by_seller", "total_no_shows", "total_declined",
    "no_show_rate", "cancellation_rate",
    "visits_last_30d", "visits_last_90d", "visits_last_365d",
    "total_booked_minutes", "avg_days_between_visits", "days_since_last_visit", "tenure_days",
    "predicted_next_visit_at", "is_overdue",
    "distinct_locations", "distinct_technicians", "distinct_services",
    "preferred_location_id", "preferred_technician_id", "preferred_service_variation_id",
    "preferred_weekday", "booking_notes",
    # payments
    "total_payments", "gross_revenue_cents", "total_tips_cents", "total_revenue_cents",
    "avg_ticket_cents", "max_ticket_cents", "first_payment_at", "last_payment_at",
    "revenue_last_30d_cents", "revenue_last_90d_cents", "revenue_last_365d_cents",
    # referrals
    "is_referrer", "activated_as_referrer_at", "personal_code", "referral_source",
    "referred_by_customer_id", "total_referrals", "total_rewards_cents",
    # segments
    "customer_segment", "rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score",
    "rfm_segment",
)

CustomerKey = tuple[UUID, str]


# --------------------------------------------------------------------------------------------
# Small helpers: time, rounding, ordering
# --------------------------------------------------------------------------------------------

def to_utc(ts: datetime | None) -> datetime | None:
    """"treat a zone-less value as UTC"; aware values are converted to UTC."""
    if ts is None:
        return None
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def _epoch_us(ts: datetime) -> int:
    """Microseconds since the epoch, exactly (no float)."""
    return (ts - _EPOCH) // timedelta(microseconds=1)


def days_between(later: datetime, earlier: datetime) -> int:
    """"days between two instants: floor(extract(epoch from (later - earlier)) / 86400)"."""
    return (_epoch_us(later) - _epoch_us(earlier)) // _US_PER_DAY


def in_last_days(ts: datetime, as_of: datetime, n: int) -> bool:
    """"the last N days" is the half-open window (as_of - N days, as_of]."""
    return as_of - timedelta(days=n) < ts <= as_of


def round_ratio(num: int, den: int, places: int) -> Decimal:
    """round(num / den, places) like PostgreSQL's round(numeric, n): half away from zero.

    Exact integer arithmetic; the result has exactly `places` decimal places.
    """
    q, r = divmod(abs(num) * 10 ** places, abs(den))
    if 2 * r >= abs(den):
        q += 1
    negative = q != 0 and ((num < 0) != (den < 0))
    return Decimal((1 if negative else 0, tuple(int(d) for d in str(q)), -places))


def _uuid_key(value: UUID) -> bytes:
    """PostgreSQL orders uuid by its 16 bytes."""
    return value.bytes


def _text_key(value: str) -> bytes:
    """Text ids are ordered bytewise (COLLATE "C")."""
    return value.encode("utf-8")


def mode(pairs: Iterable[tuple[Any, datetime]], value_key: Callable[[Any], Any]) -> Any:
    """"mode of a set = the value with the most visits; ties go to the value with the most
    recent visit; remaining ties to the smallest value. NULL values are ignored; NULL if none."

    `pairs` are (value, start_at) per visit; `value_key` orders values ("smallest").
    """
    counts: Counter = Counter()
    latest: dict[Any, datetime] = {}
    for value, start_at in pairs:
        if value is None:
            continue
        counts[value] += 1
        if value not in latest or start_at > latest[value]:
            latest[value] = start_at
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], -_epoch_us(latest[v]), value_key(v)))


def ntile(n_rows: int, buckets: int = 5) -> list[int]:
    """PostgreSQL's ntile(buckets) over n_rows ordered rows: the first (n % buckets) buckets get
    one extra row; with fewer rows than buckets every row gets its own bucket 1, 2, 3..."""
    base, extra = divmod(n_rows, buckets)
    if base == 0:
        return list(range(1, n_rows + 1))
    out: list[int] = []
    for bucket in range(1, buckets + 1):
        out.extend([bucket] * (base + (1 if bucket <= extra else 0)))
    return out


def jsonb_timestamp(ts: datetime) -> str:
    """What to_jsonb(timestamptz) prints with TimeZone=UTC: 2026-03-08T07:30:00+00:00, and
    2026-03-08T07:30:00.5+00:00 with a fraction (trailing zeros removed)."""
    ts = to_utc(ts)
    text = (f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d}"
            f"T{ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}")
    if ts.microsecond:
        text += "." + f"{ts.microsecond:06d}".rstrip("0")
    return text + "+00:00"


# --------------------------------------------------------------------------------------------
# Organization settings
# --------------------------------------------------------------------------------------------

def _settings(org: dict) -> dict:
    settings = org.get("settings")
    if isinstance(settings, (str, bytes)):
        settings = json.loads(settings)
    return settings if isinstance(settings, dict) else {}


def org_zone(settings: dict) -> ZoneInfo:
    """Business time zone: settings->>'timezone', falling back to 'UTC' (also when the name
    is not a zone zoneinfo knows)."""
    name = settings.get("timezone") or "UTC"
    try:
        return ZoneInfo(str(name))
    except Exception:  # ZoneInfoNotFoundError, ValueError (bad path), ...
        return ZoneInfo("UTC")


def _int_setting(value: Any, default: int) -> int:
    """An int, or a JSON string (or integral number) holding one; anything else -> default."""
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else default
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def segment_days(settings: dict) -> dict[str, int]:
    """"The segment thresholds (30/45/90 days) are the defaults; an organization may override
    them in settings"."""
    return {key: _int_setting(settings.get(key), default)
            for key, default in DEFAULT_SEGMENT_DAYS.items()}


# --------------------------------------------------------------------------------------------
# Metric families, one customer at a time
# --------------------------------------------------------------------------------------------

def profile_metrics(profile: dict) -> dict:
    """Copied from square_existing_clients."""
    return {
        "given_name": profile.get("given_name"),
        "family_name": profile.get("family_name"),
        "email_address": profile.get("email_address"),
        "phone_number": profile.get("phone_number"),
        "profile_created_at": to_utc(profile.get("created_at")),
        "creation_source": profile.get("creation_source"),
        "acquisition_source": profile.get("acquisition_source"),
    }


def booking_counts(bookings: list[dict], as_of: datetime) -> dict:
    """Counts by status over any start_at; visits and upcoming relative to as_of."""
    statuses = Counter(b["status"] for b in bookings)
    visits = sum(1 for b in bookings if b["status"] == ACCEPTED and b["start_at"] <= as_of)
    # upcoming booking: status ACCEPTED or PENDING and start_at > as_of
    upcoming = [b["start_at"] for b in bookings
                if b["status"] in (ACCEPTED, PENDING) and b["start_at"] > as_of]
    total = sum(n for status, n in statuses.items() if status in BOOKING_STATUSES)
    no_shows = statuses[NO_SHOW]
    cancelled_by_customer = statuses[CANCELLED_BY_CUSTOMER]
    return {
        "next_booking_at": min(upcoming) if upcoming else None,
        "total_bookings": total,
        "total_accepted_bookings": visits,
        "upcoming_bookings": len(upcoming),
        "total_cancelled_by_customer": cancelled_by_customer,
        "total_cancelled_by_seller": statuses[CANCELLED_BY_SELLER],
        "total_no_shows": no_shows,
        "total_declined": statuses[DECLINED],
        # no_show_rate = total_no_shows / (total_accepted_bookings + total_no_shows)
        "no_show_rate": (round_ratio(no_shows, visits + no_shows, 4)
                         if visits + no_shows else None),
        # cancellation_rate = total_cancelled_by_customer / total_bookings
        "cancellation_rate": (round_ratio(cancelled_by_customer, total, 4) if total else None),
    }


def _location_of_visit_at(visits: list[dict], at: datetime) -> UUID:
    """"location_id of the visit at first/last_booking_at (ties: smallest booking id)"."""
    candidates = [v for v in visits if v["start_at"] == at]
    return min(candidates, key=lambda v: _text_key(v["booking_id"]))["location_id"]


def visit_metrics(visits: list[dict], as_of: datetime, zone: ZoneInfo) -> dict:
    """Figures over visits (status ACCEPTED and start_at <= as_of)."""
    if not visits:
        return {
            "first_booking_at": None, "last_booking_at": None,
            "first_visit_location_id": None, "last_visit_location_id": None,
            "visits_last_30d": 0, "visits_last_90d": 0, "visits_last_365d": 0,
            "total_booked_minutes": 0,
            "avg_days_between_visits": None, "days_since_last_visit": None,
            "tenure_days": None, "predicted_next_visit_at": None, "is_overdue": False,
            "distinct_locations": 0, "distinct_technicians": 0, "distinct_services": 0,
            "preferred_location_id": None, "preferred_technician_id": None,
            "preferred_service_variation_id": None, "preferred_weekday": None,
        }
    first = min(v["start_at"] for v in visits)
    last = max(v["start_at"] for v in visits)
    n = len(visits)

    # (days between first_booking_at and last_booking_at) / (visits - 1), rounded to 1 place;
    # NULL under 2 visits
    avg = round_ratio(days_between(last, first), n - 1, 1) if n >= 2 else None
    days_since = days_between(as_of, last)
    # last_booking_at + (avg_days_between_visits, as stored) days. One decimal place times
    # 86400 is a whole number of seconds, so this is exact.
    predicted = last + timedelta(seconds=int(avg * 86400)) if avg is not None else None
    # days_since_last_visit > 1.5 * avg_days_between_visits (false when either is NULL)
    overdue = avg is not None and Decimal(days_since) > Decimal("1.5") * avg

    def pairs(column: str):
        return [(v[column], v["start_at"]) for v in visits]

    return {
        "first_booking_at": first,
        "last_booking_at": last,
        "first_visit_location_id": _location_of_visit_at(visits, first),
        "last_visit_location_id": _location_of_visit_at(visits, last),
        "visits_last_30d": sum(1 for v in visits if in_last_days(v["start_at"], as_of, 30)),
        "visits_last_90d": sum(1 for v in visits if in_last_days(v["start_at"], as_of, 90)),
        "visits_last_365d": sum(1 for v in visits if in_last_days(v["start_at"], as_of, 365)),
        "total_booked_minutes": sum(v.get("duration_minutes") or 0 for v in visits),
        "avg_days_between_visits": avg,
        "days_since_last_visit": days_since,
        "tenure_days": days_between(as_of, first),
        "predicted_next_visit_at": predicted,
        "is_overdue": overdue,
        "distinct_locations": len({v["location_id"] for v in visits} - {None}),
        "distinct_technicians": len({v.get("technician_id") for v in visits} - {None}),
        "distinct_services": len({v.get("service_variation_id") for v in visits} - {None}),
        "preferred_location_id": mode(pairs("location_id"), _uuid_key),
        "preferred_technician_id": mode(pairs("technician_id"), _uuid_key),
        "preferred_service_variation_id": mode(pairs("service_variation_id"), _uuid_key),
        # ISO weekday (1 = Monday) of start_at in business time, mode over visits
        "preferred_weekday": mode(
            [(v["start_at"].astimezone(zone).isoweekday(), v["start_at"]) for v in visits],
            lambda d: d,
        ),
    }


def _non_blank(note: str | None) -> bool:
    """btrim(note) <> '' -- btrim strips spaces only (a tab or newline is not blank)."""
    return note is not None and note.strip(" ") != ""


def booking_notes(bookings: list[dict]) -> list[dict]:
    """One object per non-blank note of any of the customer's bookings (known status or not);
    newest start_at first, ties by booking_id, the customer's note before the seller's."""
    notes = []
    for b in bookings:
        for rank, (source, column) in enumerate((("customer", "customer_note"),
                                                 ("seller", "seller_note"))):
            note = b.get(column)
            if _non_blank(note):
                sort_key = (-_epoch_us(b["start_at"]), _text_key(b["booking_id"]), rank)
                notes.append((sort_key, {
                    "booking_id": b["booking_id"],
                    "start_at": jsonb_timestamp(b["start_at"]),
                    "source": source,
                    "note": note,
                }))
    notes.sort(key=lambda item: item[0])
    return [obj for _, obj in notes]


def payment_metrics(payments: list[dict], as_of: datetime) -> dict:
    """Completed payments only, whatever their created_at (lifetime figures); the
    revenue_last_N windows use created_at."""
    completed = [p for p in payments if p["status"] == PAYMENT_COMPLETED]

    def revenue(rows) -> int:
        # total_revenue_cents = sum(total_money_amount) - sum(coalesce(tip_money_amount, 0))
        return sum(p["total_money_amount"] - (p.get("tip_money_amount") or 0) for p in rows)

    def revenue_last(n: int) -> int:
        return revenue(p for p in completed if in_last_days(p["created_at"], as_of, n))

    count = len(completed)
    gross = sum(p["total_money_amount"] for p in completed)
    tips = sum(p.get("tip_money_amount") or 0 for p in completed)
    total_revenue = gross - tips
    return {
        "total_payments": count,
        "gross_revenue_cents": gross,
        "total_tips_cents": tips,
        "total_revenue_cents": total_revenue,
        # round(total_revenue_cents / total_payments), 0 with no payments
        "avg_ticket_cents": int(round_ratio(total_revenue, count, 0)) if count else 0,
        "max_ticket_cents": max((p["total_money_amount"] - (p.get("tip_money_amount") or 0)
                                 for p in completed), default=0),
        "first_payment_at": min((p["created_at"] for p in completed), default=None),
        "last_payment_at": max((p["created_at"] for p in completed), default=None),
        "revenue_last_30d_cents": revenue_last(30),
        "revenue_last_90d_cents": revenue_last(90),
        "revenue_last_365d_cents": revenue_last(365),
    }


def _code_key(code: str | None) -> str | None:
    """Codes are compared trimmed (spaces) and case-insensitively."""
    if code is None:
        return None
    return code.strip(" ").lower()


def referral_source(profile: dict) -> str | None:
    """used_referral_code (trimmed; NULL when blank)."""
    used = profile.get("used_referral_code")
    if used is None:
        return None
    used = used.strip(" ")
    return used or None


def build_code_owners(profiles: list[dict]) -> dict[str, str]:
    """For one organization: normalized code -> smallest square_customer_id whose
    personal_code or referral_code has that code."""
    owners: dict[str, str] = {}
    for p in profiles:
        for column in ("personal_code", "referral_code"):
            key = _code_key(p.get(column))
            if key is None:
                continue
            cid = p["square_customer_id"]
            if key not in owners or _text_key(cid) < _text_key(owners[key]):
                owners[key] = cid
    return owners


def referral_metrics(profile: dict, code_owners: dict[str, str],
                     referral_profile: dict | None, paid_rewards: list[dict]) -> dict:
    source = referral_source(profile)
    referred_by = code_owners.get(_code_key(source)) if source is not None else None
    # "NULL if none or if it would be the customer itself" -- the smallest match is taken
    # first; if that is the customer, the result is NULL (no fallback to the next match).
    if referred_by == profile["square_customer_id"]:
        referred_by = None
    return {
        "is_referrer": bool(profile.get("activated_as_referrer")),
        "activated_as_referrer_at": (to_utc(referral_profile.get("activated_at"))
                                     if referral_profile else None),
        "personal_code": profile.get("personal_code"),
        "referral_source": source,
        "referred_by_customer_id": referred_by,
        "total_referrals": len({r["referred_customer_id"] for r in paid_rewards}),
        "total_rewards_cents": sum(r["reward_amount_cents"] for r in paid_rewards),
    }


def customer_segment(visit: dict, as_of: datetime, thresholds: dict[str, int]) -> str:
    """PROSPECT with no visit; else NEW when first_booking_at > as_of - 30 days; else ACTIVE when
    last_booking_at > as_of - 45 days; else AT_RISK when last_booking_at > as_of - 90 days;
    else LOST (thresholds from settings)."""
    first, last = visit["first_booking_at"], visit["last_booking_at"]
    if first is None:
        return "PROSPECT"
    if first > as_of - timedelta(days=thresholds["segment_new_days"]):
        return "NEW"
    if last > as_of - timedelta(days=thresholds["segment_active_days"]):
        return "ACTIVE"
    if last > as_of - timedelta(days=thresholds["segment_at_risk_days"]):
        return "AT_RISK"
    return "LOST"


def rfm_segment(r: int | None, f: int | None, m: int | None) -> str | None:
    """First matching rule wins; NULL with no visit."""
    if r is None:
        return None
    if r >= 4 and f >= 4 and m >= 4:
        return "CHAMPIONS"
    if f >= 4:
        return "LOYAL"
    if r >= 4 and f <= 2:
        return "NEW_PROMISING"
    if r <= 2 and m >= 4:
        return "AT_RISK_VALUABLE"
    if r <= 2 and f <= 2:
        return "HIBERNATING"
    return "NEEDS_ATTENTION"


def rfm_scores(rows: list[dict]) -> dict[str, dict[str, int]]:
    """For one organization's rows: square_customer_id -> the three scores, among the
    customers with at least one visit.

    recency   = ntile(5) OVER (ORDER BY days_since_last_visit DESC, square_customer_id)
    frequency = ntile(5) OVER (ORDER BY total_accepted_bookings, square_customer_id)
    monetary  = ntile(5) OVER (ORDER BY total_revenue_cents, square_customer_id)
    """
    visitors = [r for r in rows if r["total_accepted_bookings"] >= 1]
    orders = {
        "rfm_recency_score": lambda r: (-r["days_since_last_visit"],
                                        _text_key(r["square_customer_id"])),
        "rfm_frequency_score": lambda r: (r["total_accepted_bookings"],
                                          _text_key(r["square_customer_id"])),
        "rfm_monetary_score": lambda r: (r["total_revenue_cents"],
                                         _text_key(r["square_customer_id"])),
    }
    scores: dict[str, dict[str, int]] = defaultdict(dict)
    for column, key in orders.items():
        ordered = sorted(visitors, key=key)
        for row, bucket in zip(ordered, ntile(len(ordered))):
            scores[row["square_customer_id"]][column] = bucket
    return scores


# --------------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------------

def _normalized(rows: Iterable[dict], *ts_columns: str) -> list[dict]:
    """Copies of the rows with the given timestamp columns in UTC."""
    out = []
    for row in rows:
        row = dict(row)
        for column in ts_columns:
            if column in row:
                row[column] = to_utc(row[column])
        out.append(row)
    return out


def compute_reference(data: dict, as_of: datetime) -> dict[CustomerKey, dict[str, object]]:
    """One row per profile in square_existing_clients, every section-3 column but the
    bookkeeping created_at/updated_at."""
    as_of = to_utc(as_of)
    orgs = {o["id"]: _settings(o) for o in data.get("organizations", [])}
    profiles = data.get("square_existing_clients", [])
    profile_keys = {(p["organization_id"], p["square_customer_id"]) for p in profiles}

    # Rows whose customer_id is NULL or has no profile in the same organization belong to
    # no customer.
    def owner(row: dict) -> CustomerKey | None:
        key = (row["organization_id"], row.get("customer_id"))
        return key if key in profile_keys else None

    bookings_of: dict[CustomerKey, list[dict]] = defaultdict(list)
    for b in _normalized(data.get("bookings", []), "start_at"):
        key = owner(b)
        if key is not None:
            bookings_of[key].append(b)

    payments_of: dict[CustomerKey, list[dict]] = defaultdict(list)
    for p in _normalized(data.get("payments", []), "created_at"):
        key = owner(p)
        if key is not None:
            payments_of[key].append(p)

    referral_profile_of = {(rp["organization_id"], rp["square_customer_id"]): rp
                           for rp in data.get("referral_profiles", [])}

    paid_rewards_of: dict[CustomerKey, list[dict]] = defaultdict(list)
    for r in data.get("referral_rewards", []):
        if str(r["status"]) == REWARD_PAID:
            paid_rewards_of[(r["organization_id"], r["referrer_customer_id"])].append(r)

    profiles_by_org: dict[UUID, list[dict]] = defaultdict(list)
    for p in profiles:
        profiles_by_org[p["organization_id"]].append(p)

    result: dict[CustomerKey, dict[str, object]] = {}
    for org_id, org_profiles in profiles_by_org.items():
        settings = orgs.get(org_id, {})
        zone = org_zone(settings)
        thresholds = segment_days(settings)
        code_owners = build_code_owners(org_profiles)

        org_rows = []
        for p in org_profiles:
            key = (org_id, p["square_customer_id"])
            bookings = bookings_of.get(key, [])
            visits = [b for b in bookings if b["status"] == ACCEPTED and b["start_at"] <= as_of]
            visit = visit_metrics(visits, as_of, zone)
            row: dict[str, object] = {"organization_id": org_id,
                                      "square_customer_id": p["square_customer_id"]}
            row.update(profile_metrics(p))
            row.update(booking_counts(bookings, as_of))
            row.update(visit)
            row["booking_notes"] = booking_notes(bookings)
            row.update(payment_metrics(payments_of.get(key, []), as_of))
            row.update(referral_metrics(p, code_owners, referral_profile_of.get(key),
                                        paid_rewards_of.get(key, [])))
            row["customer_segment"] = customer_segment(visit, as_of, thresholds)
            org_rows.append(row)

        scores = rfm_scores(org_rows)
        for row in org_rows:
            s = scores.get(row["square_customer_id"], {})
            r, f, m = (s.get("rfm_recency_score"), s.get("rfm_frequency_score"),
                       s.get("rfm_monetary_score"))
            row["rfm_recency_score"], row["rfm_frequency_score"] = r, f
            row["rfm_monetary_score"], row["rfm_segment"] = m, rfm_segment(r, f, m)
            result[(org_id, row["square_customer_id"])] = {c: row[c] for c in COLUMNS}
    return result
