-- Undo 0001: drops the pack's table and state. Functions and views depending on them go too.
DROP TABLE IF EXISTS zorina.installed_sql;
DROP TABLE IF EXISTS zorina.refresh_state;
DROP TABLE IF EXISTS public.customer_analytics CASCADE;
DROP TYPE IF EXISTS public.customer_analytics_refresh_result CASCADE;
DROP SCHEMA IF EXISTS zorina CASCADE;
