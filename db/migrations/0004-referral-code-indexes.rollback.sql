-- Undo 0004: the referral-code lookup indexes on the source table.
DROP INDEX IF EXISTS public.zorina_clients_personal_code_idx;
DROP INDEX IF EXISTS public.zorina_clients_referral_code_idx;
