"""`training.method: dsa` (being written)."""
