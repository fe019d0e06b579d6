"""Open-set recognition methods (research: no official code or experimental components)."""
