"""Mask2CAD (Kuo, Angelova, Lin, Dai, ECCV 2020): detect, segment, retrieve a CAD model and its pose.

No official code. Built here: rotation bins (rotation_bins.py), the per-RoI heads (heads.py), losses
(losses.py), in-graph CAD retrieval and translation decoding (retrieval.py) and the Pix3D mesh F1 metric
(metrics.py). The detector integration is described in README.md.
"""
