"""DAAE's latent bookkeeping (keras.ops): the age code, the age estimate and the per-factor KLs.

The age prior is p(z_a | y) = N(y / age_unit * 1, I) (the spec's UVA formulation with ages scaled by
`age_unit` years per latent unit; the scale is our reconstruction), so the posterior mean of z_a averaged
over its dimensions, times age_unit, is the age estimate. Identity and extraneous factors have N(0, I)
priors. The factors are ordered FACTORS = (identity, age, extra) everywhere (KL columns, margins).
"""

from __future__ import annotations

from keras import ops

from official.losses.introspective import gaussian_kl

FACTORS = ("identity", "age", "extra")


def age_code(age_years, age_unit: float):
    """(B,) ages in years -> (B, 1) prior mean of every z_a dimension."""
    return ops.reshape(ops.cast(age_years, "float32"), (-1, 1)) / age_unit


def age_estimate(mu_age, age_unit: float):
    """(B, d_a) posterior means -> (B,) ages in years: mean over dimensions x age_unit."""
    return ops.mean(ops.cast(mu_age, "float32"), axis=-1) * age_unit


def factor_kls(posterior: dict, age_years, age_unit: float):
    """posterior {"mu_identity", "logvar_identity", "mu_age", ...} -> (B, 3) KLs in FACTORS order, the age
    factor against N(age / age_unit, I) and the others against N(0, I)."""
    prior = {"identity": 0.0, "age": age_code(age_years, age_unit), "extra": 0.0}
    return ops.stack([gaussian_kl(posterior[f"mu_{f}"], posterior[f"logvar_{f}"], prior[f]) for f in FACTORS],
                     axis=-1)
