/*
 * zorina.rfm_key_at_or_before(score, value, customer, boundary_value, boundary_customer) -> boolean
 *
 * Whether the ranking key (value, customer) of an RFM score comes at or before the boundary key
 * in that score's rank order (zorina.rfm_key_column: recency by days descending, the others
 * ascending, ties by square_customer_id in "C" order). A NULL boundary customer is "before every
 * customer" (an empty bucket): false. IMMUTABLE SQL, one expression: inlined.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_key_at_or_before(
    p_score text, p_value bigint, p_customer text, p_boundary_value bigint, p_boundary_customer text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT p_boundary_customer IS NOT NULL
           AND (CASE WHEN p_score = 'recency' THEN p_value > p_boundary_value
                     ELSE p_value < p_boundary_value END
                OR (p_value = p_boundary_value AND p_customer COLLATE "C" <= p_boundary_customer COLLATE "C"))
$$;
