/*
 * zorina.segments_of_listed_customers(organization_ids, customer_ids) -> jsonb
 *
 * The lifecycle segment each listed customer's stored row is in, per organization:
 * {"<organization id>": ["ACTIVE", null, ...], ...}, one entry per stored row (a listed customer
 * without a row has none; a row without a segment gives null). customer_ids[i] is a customer of
 * organization_ids[i] (the arrays in step, as zorina.merge_computed_rows takes them). The
 * incremental refresh reads it before and after merging the listed customers of every
 * organization at once: zorina.shift_segment_counts then moves each organization's counts by the
 * difference (one statement each time instead of two per organization).
 */
CREATE OR REPLACE FUNCTION zorina.segments_of_listed_customers(p_organization_ids uuid[], p_customer_ids text[])
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
-- the pairs made unique by a sort, so that the primary key is probed in its order (see
-- zorina.merge_computed_rows)
SET enable_hashagg = off
AS $$
    SELECT coalesce(jsonb_object_agg(per_organization.organization_id, per_organization.segments), '{}')
      FROM (SELECT ca.organization_id, jsonb_agg(ca.customer_segment) AS segments
              FROM public.customer_analytics ca
             WHERE (ca.organization_id, ca.square_customer_id) IN
                   (SELECT l.organization_id, l.customer_id
                      FROM unnest(p_organization_ids, p_customer_ids) AS l(organization_id, customer_id))
             GROUP BY ca.organization_id) AS per_organization
$$;
