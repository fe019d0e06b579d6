"""Geometry and planning methods of the research tree: sparse-to-dense matching (S2DNet), planning on topological maps (TopoPlan)."""
