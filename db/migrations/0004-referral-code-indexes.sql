-- Who owns a referral code: the compute looks up the owners of the codes its customers used,
-- trimmed and lower-cased (contract section 3). Without these, recomputing a few customers read
-- every profile of the organization (10 ms at 10k customers, 50 ms at 50k, per organization and
-- run). Partial: blank codes are never looked up. On the source table, named zorina_* so their
-- owner is plain; rolled back with this migration.
-- depends: 0003-segment-counts

CREATE INDEX IF NOT EXISTS zorina_clients_personal_code_idx
    ON public.square_existing_clients (organization_id, lower(btrim(personal_code)))
    WHERE btrim(personal_code) <> '';
CREATE INDEX IF NOT EXISTS zorina_clients_referral_code_idx
    ON public.square_existing_clients (organization_id, lower(btrim(referral_code)))
    WHERE btrim(referral_code) <> '';
