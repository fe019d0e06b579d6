"""Multi-modal learning methods of the research tree: TCGM, info-ground."""
