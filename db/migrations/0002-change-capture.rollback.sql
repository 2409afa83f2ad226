-- Undo 0002: remove the change-capture triggers and the dirty-key queue.
DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['bookings', 'payments', 'square_existing_clients', 'referral_profiles', 'referral_rewards']
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS zorina_capture_insert ON public.%I', v_table);
        EXECUTE format('DROP TRIGGER IF EXISTS zorina_capture_update ON public.%I', v_table);
        EXECUTE format('DROP TRIGGER IF EXISTS zorina_capture_delete ON public.%I', v_table);
    END LOOP;
END
$$;
DROP TRIGGER IF EXISTS zorina_capture_update ON public.organizations;
DROP FUNCTION IF EXISTS zorina.capture_changed_organizations();
DROP FUNCTION IF EXISTS zorina.capture_changed_keys();
DROP INDEX IF EXISTS public.customer_analytics_next_day_boundary_idx;
DROP FUNCTION IF EXISTS zorina.next_day_boundary(timestamptz, timestamptz, integer, integer);
DROP INDEX IF EXISTS public.customer_analytics_referral_source_idx;
DROP INDEX IF EXISTS public.customer_analytics_referred_by_idx;
DROP TABLE IF EXISTS zorina.dirty_keys;
