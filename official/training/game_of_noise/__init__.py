"""Game of Noise (Rusak et al., ECCV 2020): Gaussian and adversarial noise training for robustness."""

from official.training.game_of_noise import experiments, method  # noqa: F401  (registration)
