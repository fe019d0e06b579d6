"""TIDE (Bolya et al., ECCV 2020): why a detector's AP is low, as dAP per error type.

Quick use on COCO JSON:
    from official.evaluation.tide import tide_breakdown, write_tide_plot
    result = tide_breakdown("instances_val2017.json", "detections.json", mode="box")
    write_tide_plot(result, "tide.png")

tidecv-style use: `TIDE`, `Data`, `AREA` (see tide.py). Exact against tidecv 1.0.1 (tests).
"""

from official.evaluation.tide.api import tide_breakdown, tide_report, tide_scalars
from official.evaluation.tide.coco_io import CocoGroundTruth, load_predictions
from official.evaluation.tide.data import Data
from official.evaluation.tide.errors import MAIN_ERRORS, SPECIAL_ERRORS, TideInputError
from official.evaluation.tide.plot import write_tide_plot
from official.evaluation.tide.qualifiers import AREA, ASPECT_RATIO, Qualifier
from official.evaluation.tide.run import TideRun
from official.evaluation.tide.tide import TIDE

__all__ = [
    "AREA",
    "ASPECT_RATIO",
    "MAIN_ERRORS",
    "SPECIAL_ERRORS",
    "TIDE",
    "CocoGroundTruth",
    "Data",
    "Qualifier",
    "TideInputError",
    "TideRun",
    "load_predictions",
    "tide_breakdown",
    "tide_report",
    "tide_scalars",
    "write_tide_plot",
]
