"""Data, journey and people checks over the canonical tables; one module per family."""
