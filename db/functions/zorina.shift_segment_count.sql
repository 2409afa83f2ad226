/*
 * zorina.shift_segment_count(organization_id, from_segment, to_segment) -> void
 *
 * One customer moved from one lifecycle segment to another (NULL: the row appeared or went):
 * zorina.segment_counts follows by one, without recounting the organization. For the
 * per-customer refresh, which runs on every webhook (zorina.shift_segment_counts does the
 * arithmetic). The caller holds the organization's refresh lock.
 */
CREATE OR REPLACE FUNCTION zorina.shift_segment_count(
    p_organization_id uuid, p_from_segment text, p_to_segment text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM zorina.shift_segment_counts(p_organization_id, ARRAY[p_from_segment], ARRAY[p_to_segment]);
END
$$;
