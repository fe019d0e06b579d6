"""DSA experiments (being written)."""
