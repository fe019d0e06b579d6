"""Stage 2's small-run figure (research/generative/sketch2photo/colour_error.py) on hand-made pairs whose errors
are known: a perfect colouriser scores 0, the gray input's chroma error is the colour's chroma, a shifted
brightness shows in luma but not in chroma, and pairs that do not line up are refused."""

import numpy as np
import pytest

from research.generative.sketch2photo.colour_error import LUMA, colour_errors, load_folder


def _pair():
    colour = np.zeros((2, 4, 4, 3), np.float32)
    colour[0] = [0.6, -0.2, -0.6]  # a red-orange image
    colour[1] = [-0.4, 0.4, 0.0]  # a green one
    gray = np.repeat((colour @ LUMA)[..., None], 3, -1).astype(np.float32)
    return gray, colour


def test_known_errors():
    gray, colour = _pair()
    perfect = colour_errors(lambda g: colour[: len(g)], gray, colour, colour)
    assert perfect["colorized"]["rgb"] == 0.0 and perfect["colorized"]["chroma"] == 0.0
    assert perfect["colorized"]["luma"] == pytest.approx(0.0, abs=1e-7)  # the float32 gray vs float64 luma
    chroma = colour - (colour @ LUMA)[..., None]
    assert perfect["gray_input"]["chroma"] == pytest.approx(np.abs(chroma).mean() / 2)
    assert perfect["gray_input"]["luma"] == pytest.approx(0.0, abs=1e-7)
    shifted = colour_errors(lambda g: colour[: len(g)] + 0.2, gray, colour, colour)["colorized"]
    assert shifted["rgb"] == pytest.approx(0.1) and shifted["luma"] == pytest.approx(0.1, abs=1e-6)
    assert shifted["chroma"] == pytest.approx(0.0, abs=1e-6)  # a brightness shift carries no colour
    mean = colour_errors(lambda g: g, gray, colour, colour)["mean_image"]
    assert mean["rgb"] == pytest.approx(np.abs(colour - colour.mean(0)).mean() / 2)


def test_unpaired_inputs_and_empty_folder_are_refused(tmp_path):
    gray, colour = _pair()
    with pytest.raises(ValueError, match="must pair up"):
        colour_errors(lambda g: g, gray[:1], colour, colour)
    with pytest.raises(ValueError, match="no .png/.jpg images"):
        load_folder(str(tmp_path), 8)
