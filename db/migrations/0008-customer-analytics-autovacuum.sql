-- Autovacuum for customer_analytics from 1% of its rows changed instead of PostgreSQL's 20%.
-- The refresh reads the table by index-only scans: the three RFM rankings of every organization
-- whose rows moved (zorina.rfm_ranking), the vanished-profile check on the primary key. An
-- index-only scan visits the heap for every page not marked all-visible, and each refresh's
-- updates clear that mark on the pages they touch. With the default threshold (20% of the rows
-- dead) the marks were gone from almost every page long before a vacuum came: at 1M customers,
-- after 227k row updates, a ranking of 36k customers made 32k heap fetches (30-40 ms, against
-- 9 ms on a vacuumed table); the RFM step of an incremental refresh with 1% changed took 1.5 s,
-- 0.8 s on a vacuumed table. A vacuum after 1% reads only the pages no longer all-visible, and
-- each index once (2.3 s in the background at 1M customers after a 1% run); a 5-minute or
-- hourly refresh then finds the table vacuumed since the run before. Inserts count the same way
-- (a first load is vacuumed, and its pages marked, soon after it commits). Per-table storage
-- parameters: the server's settings stay as they are; a DBA may ALTER TABLE them again. Setting
-- them takes a SHARE UPDATE EXCLUSIVE lock: reads, writes and refreshes go on meanwhile.
-- depends: 0007-inlinable-next-day-boundary

ALTER TABLE public.customer_analytics SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.01
);
