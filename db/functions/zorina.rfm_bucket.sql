/*
 * zorina.rfm_bucket(position, customers) -> smallint
 *
 * The score ntile(5) gives the customer at `position` (1-based) of `customers` ranked ones: the
 * first customers % 5 buckets hold one customer more than the others. Lets a score be read off a
 * position without running the window function over the whole organization
 * (zorina.rfm_moves_ranked_whole). NULL position: no rank, no score. Its inverse, where a
 * bucket ends, is zorina.rfm_bucket_end.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_bucket(p_position bigint, p_customers bigint)
RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (CASE WHEN p_position <= (p_customers % 5) * (p_customers / 5 + 1)
                 THEN (p_position - 1) / (p_customers / 5 + 1) + 1
                 ELSE p_customers % 5 + (p_position - (p_customers % 5) * (p_customers / 5 + 1) - 1)
                                        / (p_customers / 5) + 1
            END)::smallint
$$;
