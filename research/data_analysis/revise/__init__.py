"""REVISE (Wang, Narayanan, Russakovsky, ECCV 2020): measure potential biases in a visual dataset.

Not a model: reads an annotated dataset (COCO JSON or OpenImages-style CSV, optional per-image person
attributes and locations), measures object-, attribute- and geography-based statistics and writes a
JSON summary and an HTML report of correlations for a person to judge (README.md). Entry point:
`python -m tools.revise`.
"""
