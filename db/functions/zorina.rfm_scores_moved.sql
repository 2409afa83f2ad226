/*
 * zorina.rfm_scores_moved(stored recency, frequency, monetary, segment, new recency, frequency,
 *                         monetary) -> boolean
 *
 * Whether a stored row's RFM columns must be rewritten: any score or the segment they give
 * differs (NULLs compared as values: a customer who lost every visit loses the scores). The
 * one rule zorina.rfm_moves, zorina.rfm_moves_ranked_whole and zorina.rfm_moves_from_boundaries
 * apply to their candidates.
 * IMMUTABLE SQL with a single expression: inlined, so it adds no function call per row.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_scores_moved(
    stored_recency smallint, stored_frequency smallint, stored_monetary smallint, stored_segment text,
    recency smallint, frequency smallint, monetary smallint)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (stored_recency, stored_frequency, stored_monetary, stored_segment)
           IS DISTINCT FROM (recency, frequency, monetary, zorina.rfm_segment(recency, frequency, monetary))
$$;
