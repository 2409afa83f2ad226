-- Customers per lifecycle segment and organization, kept by every refresh in the same transaction
-- as the rows it counts (zorina.refresh_segment_counts): a dashboard's segment tiles read a
-- handful of rows instead of counting an organization's customers (17 ms at 50k customers).
-- depends: 0002-change-capture

CREATE TABLE zorina.segment_counts (
    organization_id  uuid   NOT NULL,
    customer_segment text   NOT NULL,
    customers        bigint NOT NULL CHECK (customers > 0),
    PRIMARY KEY (organization_id, customer_segment)
);
COMMENT ON TABLE zorina.segment_counts IS
    'customers per (organization, customer_segment) of customer_analytics; maintained by every refresh, read through analytics_segment_counts';

-- rows refreshed before this migration
INSERT INTO zorina.segment_counts (organization_id, customer_segment, customers)
SELECT ca.organization_id, ca.customer_segment, count(*)
  FROM public.customer_analytics ca
 WHERE ca.customer_segment IS NOT NULL
 GROUP BY ca.organization_id, ca.customer_segment;
