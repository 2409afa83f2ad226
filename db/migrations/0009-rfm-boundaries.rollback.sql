-- Undo 0009: the RFM bucket boundaries go (an incremental refresh then ranks organizations whole).
DROP TABLE IF EXISTS zorina.rfm_boundaries;
