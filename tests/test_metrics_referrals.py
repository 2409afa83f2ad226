"""Referral metrics (contract section 3, Referrals)."""

from builder import SourceData, ts
from conftest import customer_row, load, refresh

AS_OF = ts("2026-06-15 12:00+00")


def test_referral_source_and_referrer_matching(conn):
    d = SourceData(); org = d.org(); other = d.org()
    d.customer(org, "ANNA", personal_code="ANNA10", activated_as_referrer=True)
    d.customer(org, "BEN", referral_code="  Share-Ben ")
    d.customer(org, "AAA_TWIN", personal_code="anna10")                # same code, smaller id
    d.customer(org, "NEWBIE", used_referral_code="  share-BEN  ")      # other case, spaces
    d.customer(org, "TWINREF", used_referral_code="Anna10")            # two owners: smallest id
    d.customer(org, "SELF", personal_code="SELF1", used_referral_code=" self1")
    d.customer(org, "BLANK", used_referral_code="   ")
    d.customer(org, "NOMATCH", used_referral_code="nobody")
    d.customer(other, "OUTSIDER", used_referral_code="ANNA10")         # other organization's codes don't count
    d.referral_profile(org, "ANNA", activated_at="2026-02-01 09:00+00")
    load(conn, d.tables); refresh(conn, as_of=AS_OF)

    newbie = customer_row(conn, org, "NEWBIE")
    assert newbie["referral_source"] == "share-BEN"
    assert newbie["referred_by_customer_id"] == "BEN"
    assert customer_row(conn, org, "TWINREF")["referred_by_customer_id"] == "AAA_TWIN"
    self_ref = customer_row(conn, org, "SELF")
    assert self_ref["referral_source"] == "self1" and self_ref["referred_by_customer_id"] is None
    blank = customer_row(conn, org, "BLANK")
    assert blank["referral_source"] is None and blank["referred_by_customer_id"] is None
    nomatch = customer_row(conn, org, "NOMATCH")
    assert nomatch["referral_source"] == "nobody" and nomatch["referred_by_customer_id"] is None
    assert customer_row(conn, other, "OUTSIDER")["referred_by_customer_id"] is None

    anna = customer_row(conn, org, "ANNA")
    assert anna["is_referrer"] is True and anna["personal_code"] == "ANNA10"
    assert anna["activated_as_referrer_at"] == ts("2026-02-01 09:00+00")
    ben = customer_row(conn, org, "BEN")
    assert ben["is_referrer"] is False and ben["activated_as_referrer_at"] is None  # NULL flag -> false


def test_rewards_count_distinct_paid_referrals(conn):
    d = SourceData(); org = d.org()
    d.customer(org, "REFERRER"); d.customer(org, "NONE")
    d.reward(org, "REFERRER", "X", 1000)
    d.reward(org, "REFERRER", "X", 500)              # same referred customer twice: counted once, summed
    d.reward(org, "REFERRER", "Y", 700)
    d.reward(org, "REFERRER", "Z", 9999, status="PENDING")
    d.reward(org, "REFERRER", "W", 9999, status="FAILED")
    d.reward(org, "REFERRER", "V", 9999, status="CANCELLED")
    d.reward(org, "GHOST", "X", 9999)                # referrer without a profile
    load(conn, d.tables); refresh(conn, as_of=AS_OF)
    row = customer_row(conn, org, "REFERRER")
    assert row["total_referrals"] == 2 and row["total_rewards_cents"] == 2200
    none = customer_row(conn, org, "NONE")
    assert none["total_referrals"] == 0 and none["total_rewards_cents"] == 0
