/*
 * zorina.rfm_stored_crossings(organization_id, score, ranked, changed_customers) -> text[]
 *
 * The customers of `ranked` (zorina.rfm_ranking: the new rank order of that score) who are not
 * in changed_customers and whose STORED score of that kind may differ from the new one; NULL
 * when a stored score is missing, i.e. when the premise below does not hold.
 *
 * The premise: the stored scores were exact for the stored rows before this transaction changed
 * the rows of changed_customers (every refresh ends with them exact). The other customers keep
 * their order among themselves, so along `ranked` their stored scores only rise, as the new ones
 * do. For each bucket boundary b = 1..4 "score <= b" then holds up to a point: for the new
 * scores up to the boundary position (zorina.rfm_bucket_end), for the stored ones up to
 * the last unchanged customer stored <= b, found by a binary search that probes the stored rows
 * by primary key (~14 probes per boundary for 10k customers) instead of reading every row. Every
 * unchanged customer whose score moved lies between the two points for some boundary.
 */
CREATE OR REPLACE FUNCTION zorina.rfm_stored_crossings(
    p_organization_id uuid, p_score text, p_ranked text[], p_changed_customers text[])
RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public
-- one cached plan for every probe: a primary-key lookup needs no re-planning per value
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_customers constant integer := coalesce(cardinality(p_ranked), 0);
    v_changed constant text[] := coalesce(p_changed_customers, ARRAY[]::text[]);
    v_candidates text[] := ARRAY[]::text[];
    v_boundary integer;
    v_new_end integer;     -- last position whose new score is <= the boundary
    v_stored_end integer;  -- last unchanged customer's position whose stored score is
    v_low integer;
    v_high integer;
    v_probe integer;
    v_stored smallint;
BEGIN
    IF p_score IS NULL OR p_score NOT IN ('recency', 'frequency', 'monetary') THEN
        RAISE EXCEPTION 'unknown RFM score: %', p_score
            USING ERRCODE = '22023', HINT = 'valid scores: recency, frequency, monetary';
    END IF;
    FOR v_boundary IN 1 .. 4 LOOP
        v_new_end := zorina.rfm_bucket_end(v_boundary, v_customers);

        -- invariant: unchanged customers at positions <= v_low are stored <= boundary, those
        -- at positions > v_high are not
        v_low := 0; v_high := v_customers;
        WHILE v_low < v_high LOOP
            v_probe := (v_low + v_high + 1) / 2;
            -- the first unchanged customer from there on (changed ones say nothing)
            WHILE v_probe <= v_high AND p_ranked[v_probe] = ANY (v_changed) LOOP
                v_probe := v_probe + 1;
            END LOOP;
            IF v_probe > v_high THEN
                v_high := (v_low + v_high + 1) / 2 - 1;
                CONTINUE;
            END IF;
            SELECT CASE p_score WHEN 'recency'   THEN ca.rfm_recency_score
                                WHEN 'frequency' THEN ca.rfm_frequency_score
                                ELSE ca.rfm_monetary_score END
              INTO v_stored
              FROM public.customer_analytics ca
             WHERE ca.organization_id = p_organization_id
               AND ca.square_customer_id = p_ranked[v_probe];
            IF v_stored IS NULL THEN
                RETURN NULL;  -- an unchanged customer with a visit always has a score
            ELSIF v_stored <= v_boundary THEN
                v_low := v_probe;
            ELSE
                v_high := (v_low + v_high + 1) / 2 - 1;
            END IF;
        END LOOP;
        v_stored_end := v_low;

        v_candidates := v_candidates
                        || p_ranked[least(v_new_end, v_stored_end) + 1 : greatest(v_new_end, v_stored_end)];
    END LOOP;
    RETURN v_candidates;
END
$$;
