"""DRV's reflectance: Lambertian diffuse + GGX microfacet specular under a point light (spec card "Method").

f_r(w_i, w_o) = albedo / pi + D(h) F(w_i . h) G(w_i, w_o) / (4 (n . w_i)(n . w_o))   (unverified exact form:
the paper names "a microfacet BRDF"; we use Walter et al. 2007's GGX with alpha_g = roughness (no squaring),
Schlick's Fresnel with F0 = 0.04 (dielectric) and the separable Smith G1(w_i) G1(w_o), white specular).
Roughness is clamped to >= 0.02 so D stays finite (card "Hard parts").
The radiance a sample sends to the camera is f_r * max(0, n . w_i) * I / ||p_l - x||^2 (before shadowing).
Only keras.ops; every function broadcasts over leading dims and keeps the inputs' float dtype.
"""

from __future__ import annotations

import math

from keras import ops

F0 = 0.04  # Schlick Fresnel at normal incidence for dielectrics (unverified: the paper's value is not stated)
MIN_ROUGHNESS = 0.02
EPS = 1e-7


def _dot(a, b):
    return ops.sum(a * b, axis=-1, keepdims=True)


def normalize(v, eps: float = 1e-12):
    """v / ||v|| with eps under the root (predicted normals can be ~0)."""
    return v / ops.sqrt(ops.sum(v * v, axis=-1, keepdims=True) + eps)


def ggx_distribution(n_dot_h, roughness):
    """GGX / Trowbridge-Reitz normal distribution D(h), alpha_g = roughness; integrates to 1 against n.h."""
    a2 = roughness * roughness
    denom = n_dot_h * n_dot_h * (a2 - 1.0) + 1.0
    return a2 / (math.pi * denom * denom)


def smith_g1(n_dot_v, roughness):
    """Smith masking for GGX: 2 (n.v) / ((n.v) + sqrt(a^2 + (1 - a^2)(n.v)^2))."""
    a2 = roughness * roughness
    return 2.0 * n_dot_v / (n_dot_v + ops.sqrt(a2 + (1.0 - a2) * n_dot_v * n_dot_v) + EPS)


def schlick_fresnel(cos_theta):
    """F0 + (1 - F0)(1 - cos)^5 with F0 = 0.04."""
    return F0 + (1.0 - F0) * (1.0 - cos_theta) ** 5


def brdf(normal, albedo, roughness, w_i, w_o, specular: bool = True):
    """f_r (..., 3) for unit normal (..., 3), albedo (..., 3), roughness (..., 1), unit w_i / w_o (..., 3).

    Zero where either direction is below the surface (n . w <= 0).
    """
    roughness = ops.maximum(roughness, MIN_ROUGHNESS)
    n_i = _dot(normal, w_i)
    n_o = _dot(normal, w_o)
    front = ops.cast(ops.logical_and(n_i > 0, n_o > 0), albedo.dtype)
    f = albedo / math.pi
    if specular:
        h = normalize(w_i + w_o)
        n_h = ops.maximum(_dot(normal, h), 0.0)
        ci = ops.maximum(n_i, EPS)
        co = ops.maximum(n_o, EPS)
        spec = (
            ggx_distribution(n_h, roughness)
            * schlick_fresnel(ops.clip(_dot(w_i, h), 0.0, 1.0))
            * smith_g1(ci, roughness)
            * smith_g1(co, roughness)
            / (4.0 * ci * co)
        )
        f = f + spec
    return f * front


def point_light_radiance(points, normal, albedo, roughness, eye, light_position, intensity, specular: bool = True):
    """Radiance towards `eye` of surface samples lit by an isotropic point light (no shadowing).

    points (..., 3); normal, albedo (..., 3); roughness (..., 1); eye, light_position broadcastable (..., 3);
    intensity scalar or broadcastable (..., 1). Returns (..., 3) = f_r max(0, n.w_i) I / d^2.
    """
    to_light = light_position - points
    d2 = ops.sum(to_light * to_light, axis=-1, keepdims=True)
    w_i = to_light / ops.sqrt(d2 + 1e-12)
    w_o = normalize(eye - points)
    cos_i = ops.maximum(_dot(normal, w_i), 0.0)
    return brdf(normal, albedo, roughness, w_i, w_o, specular) * cos_i * intensity / ops.maximum(d2, 1e-6)
