/*
 * zorina.rfm_segment(recency, frequency, monetary) -> text
 * Contract section 3: first matching rule wins; NULL when the customer has no visit (NULL scores).
 */
CREATE OR REPLACE FUNCTION zorina.rfm_segment(recency integer, frequency integer, monetary integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN recency IS NULL OR frequency IS NULL OR monetary IS NULL  THEN NULL
        WHEN recency >= 4 AND frequency >= 4 AND monetary >= 4         THEN 'CHAMPIONS'
        WHEN frequency >= 4                                            THEN 'LOYAL'
        WHEN recency >= 4 AND frequency <= 2                           THEN 'NEW_PROMISING'
        WHEN recency <= 2 AND monetary >= 4                            THEN 'AT_RISK_VALUABLE'
        WHEN recency <= 2 AND frequency <= 2                           THEN 'HIBERNATING'
        ELSE 'NEEDS_ATTENTION'
    END
$$;
