"""Backbones shared by detectors; each publishes `pyramid_outputs`."""
