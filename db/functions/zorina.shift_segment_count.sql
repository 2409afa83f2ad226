/*
 * zorina.shift_segment_count(organization_id, from_segment, to_segment) -> void
 *
 * One customer moved from one lifecycle segment to another (NULL: the row appeared or went):
 * zorina.segment_counts follows by one, without recounting the organization. For the
 * per-customer refresh, which runs on every webhook; the refresh modes recount
 * (zorina.refresh_segment_counts). The caller holds the organization's refresh lock.
 */
CREATE OR REPLACE FUNCTION zorina.shift_segment_count(
    p_organization_id uuid, p_from_segment text, p_to_segment text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF p_from_segment IS NOT DISTINCT FROM p_to_segment THEN
        RETURN;
    END IF;
    IF p_from_segment IS NOT NULL THEN
        -- the last customer of a segment takes its row along (counts are never 0)
        DELETE FROM zorina.segment_counts s
         WHERE s.organization_id = p_organization_id AND s.customer_segment = p_from_segment
           AND s.customers = 1;
        IF NOT FOUND THEN
            UPDATE zorina.segment_counts s SET customers = s.customers - 1
             WHERE s.organization_id = p_organization_id AND s.customer_segment = p_from_segment;
        END IF;
    END IF;
    IF p_to_segment IS NOT NULL THEN
        INSERT INTO zorina.segment_counts AS s (organization_id, customer_segment, customers)
        VALUES (p_organization_id, p_to_segment, 1)
        ON CONFLICT (organization_id, customer_segment) DO UPDATE SET customers = s.customers + 1;
    END IF;
END
$$;
