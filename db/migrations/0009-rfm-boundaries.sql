-- The last customer of each RFM bucket, per organization and score, as of the latest refresh.
-- An incremental refresh re-ranks an organization after a few of its customers changed
-- (zorina.rfm_moves_after_changes). Without this table it read each ranking whole, three
-- index-only scans of every customer with a visit (20 ms per organization of 10k customers,
-- 1.4 s of a 1% run at 1M), to find the few positions that move. With the previous boundaries
-- and the changed customers' stored (previous) scores, the new boundaries are a short walk along
-- each ranking's index from the old ones: cost follows the change, not the organization.
-- Kept in the same transaction as the scores it describes, by every refresh that writes them; a
-- missing or inconsistent row makes the next refresh rank the organization whole (the previous
-- way) and write it again. Starts empty: the first refresh of each organization fills it.
-- depends: 0008-customer-analytics-autovacuum

CREATE TABLE zorina.rfm_boundaries (
    organization_id    uuid     NOT NULL,
    score              text     NOT NULL CHECK (score IN ('recency', 'frequency', 'monetary')),
    -- customers with at least one visit, the ones ranked
    ranked_customers   integer  NOT NULL CHECK (ranked_customers >= 0),
    -- for buckets 1..4, the ranking key (the score's column, square_customer_id) of the bucket's
    -- last customer; NULL while the bucket and those before it are empty (no customer ranked)
    boundary_values    bigint[] NOT NULL CHECK (cardinality(boundary_values) = 4),
    boundary_customers text[]   NOT NULL CHECK (cardinality(boundary_customers) = 4),
    PRIMARY KEY (organization_id, score)
);
COMMENT ON TABLE zorina.rfm_boundaries IS
    'the last ranking key of RFM buckets 1..4 per organization and score; kept by every refresh that writes RFM scores';
