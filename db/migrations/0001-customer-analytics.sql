-- customer_analytics: one row per customer profile with the metrics of metrics.md section 3,
-- plus the pack's private bookkeeping in schema zorina.
-- depends:

CREATE SCHEMA IF NOT EXISTS zorina;
COMMENT ON SCHEMA zorina IS 'zorina-db internals: refresh state, installed SQL; not an API';

-- dblink (contrib) lets a failing refresh keep its application_logs row: the row is written
-- over a loopback connection in its own transaction (zorina.write_refresh_log).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'dblink') THEN
        CREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA zorina;
    ELSE
        RAISE NOTICE 'dblink is not available: failed refreshes will not keep their log rows';
    END IF;
END
$$;

CREATE TABLE public.customer_analytics (
    organization_id                 uuid        NOT NULL,
    square_customer_id              text        NOT NULL,
    -- profile
    given_name                      text,
    family_name                     text,
    email_address                   text,
    phone_number                    text,
    profile_created_at              timestamptz,
    creation_source                 text,
    acquisition_source              text,
    -- bookings
    first_booking_at                timestamptz,
    last_booking_at                 timestamptz,
    next_booking_at                 timestamptz,
    first_visit_location_id         uuid,
    last_visit_location_id          uuid,
    total_bookings                  integer     NOT NULL DEFAULT 0,
    total_accepted_bookings         integer     NOT NULL DEFAULT 0,
    upcoming_bookings               integer     NOT NULL DEFAULT 0,
    total_cancelled_by_customer     integer     NOT NULL DEFAULT 0,
    total_cancelled_by_seller       integer     NOT NULL DEFAULT 0,
    total_no_shows                  integer     NOT NULL DEFAULT 0,
    total_declined                  integer     NOT NULL DEFAULT 0,
    no_show_rate                    numeric(5,4),
    cancellation_rate               numeric(5,4),
    visits_last_30d                 integer     NOT NULL DEFAULT 0,
    visits_last_90d                 integer     NOT NULL DEFAULT 0,
    visits_last_365d                integer     NOT NULL DEFAULT 0,
    total_booked_minutes            bigint      NOT NULL DEFAULT 0,
    avg_days_between_visits         numeric(10,1),
    days_since_last_visit           integer,
    tenure_days                     integer,
    predicted_next_visit_at         timestamptz,
    is_overdue                      boolean     NOT NULL DEFAULT false,
    distinct_locations              integer     NOT NULL DEFAULT 0,
    distinct_technicians            integer     NOT NULL DEFAULT 0,
    distinct_services               integer     NOT NULL DEFAULT 0,
    preferred_location_id           uuid,
    preferred_technician_id         uuid,
    preferred_service_variation_id  uuid,
    preferred_weekday               smallint,
    booking_notes                   jsonb       NOT NULL DEFAULT '[]'::jsonb,
    -- payments (COMPLETED only)
    total_payments                  integer     NOT NULL DEFAULT 0,
    gross_revenue_cents             bigint      NOT NULL DEFAULT 0,
    total_tips_cents                bigint      NOT NULL DEFAULT 0,
    total_revenue_cents             bigint      NOT NULL DEFAULT 0,
    avg_ticket_cents                bigint      NOT NULL DEFAULT 0,
    max_ticket_cents                bigint      NOT NULL DEFAULT 0,
    first_payment_at                timestamptz,
    last_payment_at                 timestamptz,
    revenue_last_30d_cents          bigint      NOT NULL DEFAULT 0,
    revenue_last_90d_cents          bigint      NOT NULL DEFAULT 0,
    revenue_last_365d_cents         bigint      NOT NULL DEFAULT 0,
    -- referrals
    is_referrer                     boolean     NOT NULL DEFAULT false,
    activated_as_referrer_at        timestamptz,
    personal_code                   text,
    referral_source                 text,
    referred_by_customer_id         text,
    total_referrals                 integer     NOT NULL DEFAULT 0,
    total_rewards_cents             bigint      NOT NULL DEFAULT 0,
    -- segments
    customer_segment                text        NOT NULL DEFAULT 'PROSPECT',
    rfm_recency_score               smallint,
    rfm_frequency_score             smallint,
    rfm_monetary_score              smallint,
    rfm_segment                     text,
    -- bookkeeping
    created_at                      timestamptz NOT NULL DEFAULT now(),
    updated_at                      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, square_customer_id),
    CONSTRAINT customer_analytics_segment_check
        CHECK (customer_segment IN ('PROSPECT', 'NEW', 'ACTIVE', 'AT_RISK', 'LOST')),
    CONSTRAINT customer_analytics_rfm_check
        CHECK (rfm_recency_score BETWEEN 1 AND 5 AND rfm_frequency_score BETWEEN 1 AND 5
               AND rfm_monetary_score BETWEEN 1 AND 5)
);

COMMENT ON TABLE public.customer_analytics IS
    'One row per square_existing_clients profile with precomputed metrics (contract: metrics.md section 3). Written only by refresh_customer_analytics*.';
COMMENT ON COLUMN public.customer_analytics.first_booking_at IS 'min(start_at) over visits (ACCEPTED, started by as_of): the day a customer became new';
COMMENT ON COLUMN public.customer_analytics.next_booking_at IS 'min(start_at) over upcoming bookings (ACCEPTED or PENDING, start_at > as_of)';
COMMENT ON COLUMN public.customer_analytics.total_bookings IS 'bookings with one of the six known Square statuses, any start_at';
COMMENT ON COLUMN public.customer_analytics.total_accepted_bookings IS 'visits: ACCEPTED bookings with start_at <= as_of';
COMMENT ON COLUMN public.customer_analytics.preferred_weekday IS 'ISO weekday (1 = Monday) in the organization''s time zone with the most visits';
COMMENT ON COLUMN public.customer_analytics.booking_notes IS 'non-blank customer and seller notes, newest first';
COMMENT ON COLUMN public.customer_analytics.total_revenue_cents IS 'COMPLETED payments: total_money_amount minus tips, lifetime';
COMMENT ON COLUMN public.customer_analytics.customer_segment IS 'PROSPECT / NEW / ACTIVE / AT_RISK / LOST relative to the refresh as_of';
COMMENT ON COLUMN public.customer_analytics.updated_at IS 'last time a refresh changed a value of this row (unchanged rows are never rewritten)';

CREATE INDEX customer_analytics_segment_idx ON public.customer_analytics (organization_id, customer_segment);
CREATE INDEX customer_analytics_first_booking_idx ON public.customer_analytics (organization_id, first_booking_at);
CREATE INDEX customer_analytics_last_booking_idx ON public.customer_analytics (organization_id, last_booking_at);
CREATE INDEX customer_analytics_booking_notes_idx ON public.customer_analytics USING gin (booking_notes jsonb_path_ops);

-- The as_of of the latest successful refresh of each organization: how fresh the table is.
CREATE TABLE zorina.refresh_state (
    organization_id  uuid        PRIMARY KEY,
    as_of            timestamptz NOT NULL,
    mode             text        NOT NULL,
    refreshed_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE zorina.refresh_state IS 'per organization: as_of and mode of the latest successful refresh';

-- The row refresh_customer_analytics* return (a type, because its fields mode / organization_id /
-- as_of share their names with the function's parameters, which OUT parameters may not).
CREATE TYPE public.customer_analytics_refresh_result AS (
    mode                  text,
    organization_id       uuid,
    as_of                 timestamptz,
    customers_recomputed  bigint,
    rows_inserted         bigint,
    rows_updated          bigint,
    rows_deleted          bigint,
    duration_ms           bigint,
    skipped               boolean
);

-- Content hashes of the function and view files apply installed: lets apply skip what is current.
CREATE TABLE zorina.installed_sql (
    kind          text        NOT NULL,
    name          text        NOT NULL,
    sha256        text        NOT NULL,
    installed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, name)
);
