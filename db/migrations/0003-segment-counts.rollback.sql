-- Undo 0003: the segment summary (and the view reading it) go.
DROP TABLE IF EXISTS zorina.segment_counts CASCADE;
