"""Side-Tuning's networks (SideTuneNet, FCN4): registers their variants. The training method lives in
official/training/side_tuning."""

from official.vision.side_tuning import model  # noqa: F401  (registration)
