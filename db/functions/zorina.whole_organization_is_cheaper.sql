/*
 * zorina.whole_organization_is_cheaper(organization_id, customer_count) -> boolean
 *
 * Whether recomputing customer_count customers of an organization one by one costs more than
 * one pass over the whole organization: past a thousand customers and a quarter of its stored
 * rows, looking them up through the (organization_id, customer_id) indexes reads most of its
 * pages anyway, in a worse order. A cost rule only: both ways give the same rows.
 */
CREATE OR REPLACE FUNCTION zorina.whole_organization_is_cheaper(p_organization_id uuid, p_customer_count bigint)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
    SELECT p_customer_count > 1000
       AND p_customer_count * 4 > (SELECT count(*) FROM public.customer_analytics ca
                                    WHERE ca.organization_id = p_organization_id)
$$;
