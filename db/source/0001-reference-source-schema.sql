/*
 * Reference source schema: the booking platform's tables as the pack reads them
 * (contract section 1). Installed only for development, tests and the demo
 * (`zorina-db apply --with-source-schema`); in production the platform owns them.
 *
 * It mirrors production on purpose where production is awkward:
 *   - payments.created_at / updated_at are `timestamp without time zone` holding UTC
 *     (Prisma's default), so every test exercises the "zone-less means UTC" rule;
 *   - referral_rewards.status and application_logs.status are enums, so the pack's
 *     comparisons and writes must go through text literals that cast.
 * Re-runnable: every object is created only when missing.
 */

CREATE EXTENSION IF NOT EXISTS pgcrypto;  -- gen_random_uuid() on servers older than 13

DO $$
BEGIN
    IF to_regtype('public."RewardStatus"') IS NULL THEN
        CREATE TYPE public."RewardStatus" AS ENUM ('PENDING', 'PAID', 'FAILED', 'CANCELLED');
    END IF;
    IF to_regtype('public."ApplicationLogStatus"') IS NULL THEN
        CREATE TYPE public."ApplicationLogStatus" AS ENUM ('received', 'processing', 'completed', 'error');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS public.organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.locations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id  uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    name             text NOT NULL
);
CREATE INDEX IF NOT EXISTS locations_organization_id_idx ON public.locations (organization_id);

CREATE TABLE IF NOT EXISTS public.square_existing_clients (
    organization_id        uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    square_customer_id     text NOT NULL,
    given_name             text,
    family_name            text,
    email_address          text,
    phone_number           text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    activated_as_referrer  boolean,
    personal_code          text,
    referral_code          text,
    used_referral_code     text,
    creation_source        text,
    acquisition_source     text,
    PRIMARY KEY (organization_id, square_customer_id)
);

CREATE TABLE IF NOT EXISTS public.bookings (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id       uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    booking_id            text NOT NULL,
    customer_id           text,
    location_id           uuid NOT NULL REFERENCES public.locations (id),
    technician_id         uuid,
    service_variation_id  uuid,
    start_at              timestamptz NOT NULL,
    status                text NOT NULL,
    duration_minutes      integer,
    customer_note         text,
    seller_note           text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, booking_id)
);
CREATE INDEX IF NOT EXISTS bookings_organization_customer_idx ON public.bookings (organization_id, customer_id);
CREATE INDEX IF NOT EXISTS bookings_organization_start_at_idx ON public.bookings (organization_id, start_at);
CREATE INDEX IF NOT EXISTS bookings_location_start_at_idx ON public.bookings (location_id, start_at);

CREATE TABLE IF NOT EXISTS public.payments (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id      uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    payment_id           text NOT NULL,
    customer_id          text,
    booking_id           uuid REFERENCES public.bookings (id) ON DELETE SET NULL,
    location_id          uuid NOT NULL REFERENCES public.locations (id),
    amount_money_amount  integer NOT NULL,
    tip_money_amount     integer,
    total_money_amount   integer NOT NULL,
    status               text NOT NULL,
    created_at           timestamp(3) without time zone NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    updated_at           timestamp(3) without time zone NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    UNIQUE (organization_id, payment_id)
);
CREATE INDEX IF NOT EXISTS payments_organization_customer_idx ON public.payments (organization_id, customer_id);
CREATE INDEX IF NOT EXISTS payments_organization_created_at_idx ON public.payments (organization_id, created_at);
CREATE INDEX IF NOT EXISTS payments_booking_id_idx ON public.payments (booking_id);

CREATE TABLE IF NOT EXISTS public.referral_profiles (
    organization_id     uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    square_customer_id  text NOT NULL,
    personal_code       text,
    referral_code       text,
    activated_at        timestamptz,
    PRIMARY KEY (organization_id, square_customer_id)
);

CREATE TABLE IF NOT EXISTS public.referral_rewards (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id       uuid NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
    referrer_customer_id  text NOT NULL,
    referred_customer_id  text NOT NULL,
    reward_amount_cents   integer NOT NULL,
    status                public."RewardStatus" NOT NULL DEFAULT 'PENDING',
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS referral_rewards_referrer_idx ON public.referral_rewards (organization_id, referrer_customer_id);

-- No database default for id, as in production: the pack supplies one.
CREATE TABLE IF NOT EXISTS public.application_logs (
    id               text PRIMARY KEY,
    organization_id  uuid,
    log_type         text NOT NULL,
    log_id           text NOT NULL,
    status           public."ApplicationLogStatus" NOT NULL,
    payload          jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, log_id, log_type)
);
CREATE INDEX IF NOT EXISTS application_logs_type_created_idx ON public.application_logs (log_type, created_at);
