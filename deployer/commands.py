"""Commands that run the engine: refresh, seed, demo summary."""
