/*
 * zorina.cleanup_history(keep_days DEFAULT 14) -> (application_logs_deleted, job_run_details_deleted)
 * The daily cleanup job: deletes refresh rows of application_logs older than keep_days and,
 * where pg_cron lives in this database, cron.job_run_details rows older than keep_days
 * (pg_cron keeps every run forever otherwise). Other application_logs rows are not the pack's.
 */
CREATE OR REPLACE FUNCTION zorina.cleanup_history(
    keep_days integer DEFAULT 14,
    OUT application_logs_deleted bigint, OUT job_run_details_deleted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF keep_days IS NULL OR keep_days < 1 THEN
        RAISE EXCEPTION 'keep_days must be at least 1, got %', keep_days
            USING ERRCODE = '22023', HINT = 'the number of days of history to keep, e.g. 14';
    END IF;
    DELETE FROM public.application_logs
     WHERE log_type = 'customer_analytics_refresh'
       AND created_at < now() - make_interval(days => keep_days);
    GET DIAGNOSTICS application_logs_deleted = ROW_COUNT;
    job_run_details_deleted := 0;
    IF to_regclass('cron.job_run_details') IS NOT NULL THEN
        EXECUTE 'DELETE FROM cron.job_run_details WHERE end_time < now() - make_interval(days => $1)'
          USING keep_days;
        GET DIAGNOSTICS job_run_details_deleted = ROW_COUNT;
    END IF;
END
$$;
