-- Undo 0005: the RFM ranking indexes (zorina.rfm_moves then sorts the rows) and the fillfactor.
DROP INDEX IF EXISTS public.customer_analytics_rfm_recency_idx;
DROP INDEX IF EXISTS public.customer_analytics_rfm_frequency_idx;
DROP INDEX IF EXISTS public.customer_analytics_rfm_monetary_idx;
ALTER TABLE public.customer_analytics RESET (fillfactor);
