-- Undo 0008: customer_analytics back to the server's autovacuum thresholds (fillfactor, from 0005, stays).
ALTER TABLE public.customer_analytics RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor);
