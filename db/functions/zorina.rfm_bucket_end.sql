/*
 * zorina.rfm_bucket_end(bucket, customers) -> bigint
 *
 * The last position (1-based) whose ntile(5) score is at most `bucket` among `customers` ranked
 * ones: the inverse of zorina.rfm_bucket, the same bucket sizes counted the other way (the first
 * customers % 5 buckets hold one customer more). 0 for bucket 0, customers for bucket 5; an empty bucket
 * (fewer than five customers) ends where the one before it does.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_bucket_end(p_bucket integer, p_customers bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT p_bucket * (p_customers / 5) + least(p_bucket, p_customers % 5)
$$;
