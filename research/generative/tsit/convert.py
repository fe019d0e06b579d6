"""Official TSIT generator checkpoints (`latest_net_G.pth` of EndlessSora/TSIT) -> Keras `TSITGenerator` weights.

Key layout of the official modules (models/networks/generator.py, stream.py, architecture.py,
normalization.py): `content_stream.res_k.conv_{0,1,s}`, `style_stream.…` (AST/MMIS), `fc` (conv3x3 on the
noise / label map, or Linear on z for SIS+VAE), decoder blocks `head_0, G_middle_0, G_middle_1, up_0..up_3`
each with `conv_{0,1,s}` and FADE `norm_{0,1,s}.mlp_{gamma,beta}` + `param_free_norm.running_{mean,var}`,
and `conv_img`. Spectral-normalised convs store `weight_orig`, `weight_u`, `weight_v`: Keras'
SpectralNormalization keeps the normalised kernel, so the kernel is weight_orig / sigma with
sigma = u . (W v) (what torch uses in eval mode) and the u-vector is kept for further training.
    python -m tools.convert_checkpoint --from=pytorch --model=tsit_ast --src=latest_net_G.pth --dst=DIR
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from official.core import checkpoint_convert as cc
from research.generative.tsit.model import TSITGenerator, _level_name


def fold_spectral_norm(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`X.weight_orig/_u/_v` -> `X.weight` (= weight_orig / sigma) and `X.weight_u`; weight_v is consumed."""
    out = {k: v for k, v in arrays.items() if not k.endswith((".weight_orig", ".weight_v"))}
    for key in [k for k in arrays if k.endswith(".weight_orig")]:
        base = key[: -len(".weight_orig")]
        w, u, v = arrays[key], arrays[f"{base}.weight_u"], arrays[f"{base}.weight_v"]
        sigma = float(u @ (w.reshape(w.shape[0], -1) @ v))
        out[f"{base}.weight"] = w / sigma
    return out


def _fc_linear(sh: int, sw: int, channels: int):
    """torch Linear(z -> C*sh*sw) viewed as (C, sh, sw) -> Keras Dense kernel whose output reshapes to (sh, sw, C)."""
    def kernel(w):
        return w.reshape(channels, sh, sw, -1).transpose(1, 2, 0, 3).reshape(sh * sw * channels, -1).T

    def bias(b):
        return b.reshape(channels, sh, sw).transpose(1, 2, 0).reshape(-1)
    return kernel, bias


def weight_entries(model: TSITGenerator) -> list:
    cfg = model.get_config()
    entries = []

    def spectral(layer_name: str, key: str, bias: bool = True):
        wrapper = model.get_layer(layer_name)
        entries.append((f"{key}.weight", wrapper.layer.kernel, cc.torch_conv))
        entries.append((f"{key}.weight_u", wrapper.vector_u, lambda u: u[None]))
        if bias:
            entries.append((f"{key}.bias", wrapper.layer.bias, None))

    def plain(layer, key: str, transform=cc.torch_conv):
        entries.append((f"{key}.weight", layer.kernel, transform))
        entries.append((f"{key}.bias", layer.bias, None))

    widths = [model.get_layer(f"content_res_{k}_out").output.shape[-1] for k in range(cfg["levels"])]
    streams = ("content", "style") if cfg["mode"] == "ast" else ("content",)
    for stream in streams:
        fin = model.get_layer(f"{stream}_res_0_conv_0").layer.kernel.shape[2]
        for k, fout in enumerate(widths):
            spectral(f"{stream}_res_{k}_conv_0", f"{stream}_stream.res_{k}.conv_0")
            spectral(f"{stream}_res_{k}_conv_1", f"{stream}_stream.res_{k}.conv_1")
            if fin != fout:
                spectral(f"{stream}_res_{k}_conv_s", f"{stream}_stream.res_{k}.conv_s", bias=False)
            fin = fout
    fc = model.get_layer("fc")
    if cfg["mode"] == "sis" and cfg["use_vae"]:
        kernel, bias = _fc_linear(*model.bottleneck, widths[-1])
        entries += [("fc.weight", fc.kernel, kernel), ("fc.bias", fc.bias, bias)]
    else:
        plain(fc, "fc")
    for k in range(cfg["levels"] - 1, 0, -1):
        name = _level_name(k)
        spectral(f"{name}_conv_0", f"{name}.conv_0")
        spectral(f"{name}_conv_1", f"{name}.conv_1")
        norms = ("norm_0", "norm_1") + (("norm_s",) if widths[k] != widths[k - 1] else ())
        if widths[k] != widths[k - 1]:
            spectral(f"{name}_conv_s", f"{name}.conv_s", bias=False)
        for norm in norms:
            fade = model.get_layer(f"{name}_{norm}")
            plain(fade.gamma, f"{name}.{norm}.mlp_gamma")
            plain(fade.beta, f"{name}.{norm}.mlp_beta")
            entries.append((f"{name}.{norm}.param_free_norm.running_mean", fade.batch_norm.moving_mean, None))
            entries.append((f"{name}.{norm}.param_free_norm.running_var", fade.batch_norm.moving_variance, None))
    plain(model.get_layer("conv_img"), "conv_img")
    return entries


def load_state_dict(model: TSITGenerator, state: Mapping) -> cc.ConversionReport:
    arrays = fold_spectral_norm(cc.to_arrays(state))
    return cc.assign_strict(model, weight_entries(model), arrays,
                            {"missing": "; is this a TSIT generator of the model's mode and ngf?"})


def infer_model_kwargs(state: Mapping) -> dict:
    """ngf from res_0's width; mode from the presence of a style stream."""
    ngf = int(np.asarray(state["content_stream.res_0.conv_1.weight_orig"]).shape[0])
    return {"ngf": ngf}


def convert_pytorch(src: str, dst: str, model_name: str, allow_pickle: bool = False, checkpoint_key: str = "",
                    **overrides) -> dict:
    return cc.convert_pytorch_checkpoint(src, dst, model_name, TSITGenerator, load_state_dict, infer_model_kwargs,
                                         allow_pickle, checkpoint_key, **overrides)


CONVERTERS = {"pytorch": convert_pytorch}
