"""Fine-grained image retrieval by hashing (research: no official code, several details reconstructed)."""
