/*
 * analytics_segment_counts: customers per lifecycle segment (customer_analytics.customer_segment)
 * and organization, as of the latest refresh. A maintained summary (zorina.segment_counts), not
 * a count at read time: a segment tile reads a few rows whatever the organization's size.
 * Segments with no customer have no row.
 *     SELECT customer_segment, customers FROM analytics_segment_counts WHERE organization_id = '...';
 */
CREATE OR REPLACE VIEW public.analytics_segment_counts
WITH (security_barrier = true) AS
SELECT s.organization_id,
       s.customer_segment,
       s.customers
  FROM zorina.segment_counts s;

COMMENT ON VIEW public.analytics_segment_counts IS
    'Customers per lifecycle segment and organization as of the latest refresh (a summary every refresh keeps in step with customer_analytics).';
