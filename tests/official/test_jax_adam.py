"""benchmarks/jax_adam.py (the GPU benchmarks' optimizer) takes the same steps as torch.optim.Adam,
weight decay included, so the zoo and the authors' PyTorch runs time the same update."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import torch

from benchmarks.jax_adam import adam_init, adam_update


def test_five_steps_equal_torch_adam():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(5,)).astype(np.float32)]
    grads = [[rng.normal(size=p.shape).astype(np.float32) for p in params] for _ in range(5)]
    ours, state = [jnp.asarray(p) for p in params], adam_init([jnp.asarray(p) for p in params])
    theirs = [torch.nn.Parameter(torch.tensor(p)) for p in params]
    opt = torch.optim.Adam(theirs, lr=1e-2, weight_decay=1e-3)
    for step in grads:
        ours, state = adam_update(ours, [jnp.asarray(g) for g in step], state, lr=1e-2, weight_decay=1e-3)
        for p, g in zip(theirs, step, strict=True):
            p.grad = torch.tensor(g)
        opt.step()
    assert int(state["t"]) == 5
    for a, b, p in zip(ours, theirs, params, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert np.abs(np.asarray(a) - p).max() > 1e-3  # the parameters did move
