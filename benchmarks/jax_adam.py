"""torch.optim.Adam as plain JAX arrays, for the GPU benchmarks' jitted training steps (no TensorFlow).

Coupled weight decay like torch (g += wd * w), bias-corrected moments; the state is a dict of lists so
`jax.jit(..., donate_argnums=...)` can reuse the buffers.
"""

from __future__ import annotations


def adam_init(params: list) -> dict:
    import jax.numpy as jnp

    return {"m": [jnp.zeros_like(p) for p in params], "v": [jnp.zeros_like(p) for p in params],
            "t": jnp.zeros((), jnp.int32)}


def adam_update(params: list, grads: list, state: dict, lr: float, weight_decay: float = 0.0,
                b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> tuple[list, dict]:
    """One Adam step: (new params, new state)."""
    import jax.numpy as jnp

    t = state["t"] + 1
    c1 = 1.0 - b1 ** t.astype(jnp.float32)
    c2 = 1.0 - b2 ** t.astype(jnp.float32)
    grads = [g + weight_decay * p for g, p in zip(grads, params, strict=True)]
    m = [b1 * a + (1.0 - b1) * g for a, g in zip(state["m"], grads, strict=True)]
    v = [b2 * a + (1.0 - b2) * g * g for a, g in zip(state["v"], grads, strict=True)]
    params = [p - lr * (a / c1) / (jnp.sqrt(b / c2) + eps) for p, a, b in zip(params, m, v, strict=True)]
    return params, {"m": m, "v": v, "t": t}
