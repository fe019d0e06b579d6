"""Error-type names, their fixed order, and the bad-input exception shared by the TIDE package.

The order of MAIN_ERRORS is the order TIDE reports and plots them (paper Fig. 1 and tidecv's tables);
the integer codes index the per-prediction error arrays computed in `classify.py`.
"""

from __future__ import annotations

from official.core.errors import UserError

# Main error types in report order; short names are the keys of every dAP dict and of the JSON.
MAIN_ERRORS: tuple[str, ...] = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
# Special errors: perfect precision (every false positive removed) and perfect recall.
SPECIAL_ERRORS: tuple[str, ...] = ("FalsePos", "FalseNeg")

# Codes stored per false-positive prediction (Miss belongs to ground truth, not predictions).
NO_ERROR = -1
CLS, LOC, BOTH, DUPE, BKG = 0, 1, 2, 3, 4
PRED_ERROR_CODES: dict[str, int] = {"Cls": CLS, "Loc": LOC, "Both": BOTH, "Dupe": DUPE, "Bkg": BKG}

DESCRIPTIONS: dict[str, str] = {
    "Cls": "localised correctly (IoU >= fg) but classified wrongly",
    "Loc": "right class, fg > IoU >= bg with a ground truth",
    "Both": "wrong class and poorly localised (fg > IoU >= bg)",
    "Dupe": "right class, IoU >= fg with a ground truth another prediction already matched",
    "Bkg": "fired on background (IoU <= bg with every ground truth)",
    "Miss": "ground truth that no prediction matched and no Cls/Loc fix would recover",
    "FalsePos": "AP gained with perfect precision (every false positive removed)",
    "FalseNeg": "AP gained with perfect recall (every missed ground truth removed)",
}


class TideInputError(UserError, ValueError):
    """Bad TIDE input; the message names the file (or object) and the index of the bad entry."""
