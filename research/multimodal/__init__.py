"""Multi-modal learning methods (TCGM)."""
