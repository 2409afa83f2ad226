/*
 * zorina.rfm_score_from_boundaries(score, value, customer, boundary_values, boundary_customers)
 *   -> smallint
 *
 * The RFM score (1..5) of a ranked customer whose key is (value, customer), given the last
 * key of buckets 1..4 (zorina.rfm_boundaries' shape): 1 + the buckets whose last key comes
 * before it. The same as its ntile(5) rank when the boundaries are those of the current
 * ranking. NULL value (a customer without a visit is not ranked): NULL.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_score_from_boundaries(
    p_score text, p_value bigint, p_customer text, p_boundary_values bigint[], p_boundary_customers text[])
RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN p_value IS NOT NULL THEN
               (1 + (NOT zorina.rfm_key_at_or_before(p_score, p_value, p_customer, p_boundary_values[1], p_boundary_customers[1]))::integer
                  + (NOT zorina.rfm_key_at_or_before(p_score, p_value, p_customer, p_boundary_values[2], p_boundary_customers[2]))::integer
                  + (NOT zorina.rfm_key_at_or_before(p_score, p_value, p_customer, p_boundary_values[3], p_boundary_customers[3]))::integer
                  + (NOT zorina.rfm_key_at_or_before(p_score, p_value, p_customer, p_boundary_values[4], p_boundary_customers[4]))::integer
               )::smallint
           END
$$;
