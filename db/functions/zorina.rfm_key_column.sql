/*
 * zorina.rfm_key_column(score) -> the customer_analytics column an RFM score ranks by
 *
 * 'recency' ranks by days_since_last_visit, descending (the most recent visitors last, scoring
 * 5); 'frequency' by total_accepted_bookings and 'monetary' by total_revenue_cents, ascending.
 * Ties by square_customer_id in "C" order, for every score (contract section 3, migration 0005).
 * Anything else is an error naming it.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_key_column(p_score text)
RETURNS name
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    CASE p_score
        WHEN 'recency'   THEN RETURN 'days_since_last_visit';
        WHEN 'frequency' THEN RETURN 'total_accepted_bookings';
        WHEN 'monetary'  THEN RETURN 'total_revenue_cents';
        ELSE
            RAISE EXCEPTION 'unknown RFM score: %', p_score
                USING ERRCODE = '22023', HINT = 'valid scores: recency, frequency, monetary';
    END CASE;
END
$$;
