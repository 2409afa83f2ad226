-- Undo 0005: the RFM ranking indexes (zorina.rfm_moves falls back to sorting the rows).
DROP INDEX IF EXISTS public.customer_analytics_rfm_recency_idx;
DROP INDEX IF EXISTS public.customer_analytics_rfm_frequency_idx;
DROP INDEX IF EXISTS public.customer_analytics_rfm_monetary_idx;
DROP INDEX IF EXISTS public.customer_analytics_rfm_stale_idx;
