"""Official MMIL_Net checkpoints -> HanNet (METHOD_CONTRACT item 8): a state dict with the authors' key names
and shapes (built from torch modules, unused encoders included) converts through tools.convert_checkpoint's
dispatch, and the Keras model equals a torch forward of the spec's equations on those modules. The parity
with the authors' own module is benchmarks/avvp_torch_parity.py (benchmarks/results/avvp_torch_parity.json)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

nn = torch.nn

D, C = 32, 25  # avvp_tiny


def official_like_net() -> nn.Module:
    """Modules under MMIL_Net's attribute names (so state_dict() has the official keys), tiny widths."""
    torch.manual_seed(0)
    layer = nn.ModuleDict({"cm_attn": nn.MultiheadAttention(D, 1, dropout=0.1),
                           "self_attn": nn.MultiheadAttention(D, 1, dropout=0.1),
                           "linear1": nn.Linear(D, D), "linear2": nn.Linear(D, D),
                           "norm1": nn.LayerNorm(D), "norm2": nn.LayerNorm(D)})
    net = nn.ModuleDict({
        "fc_prob": nn.Linear(D, C), "fc_frame_att": nn.Linear(D, C), "fc_av_att": nn.Linear(D, C),
        "fc_a": nn.Linear(128, D), "fc_v": nn.Linear(2048, D), "fc_st": nn.Linear(512, D), "fc_fusion": nn.Linear(2 * D, D),
        "audio_encoder": nn.TransformerEncoderLayer(D, 1, D),  # present in the official state dict, never called
        "hat_encoder": nn.ModuleDict({"layers": nn.ModuleList([layer]), "norm1": nn.LayerNorm(D), "norm2": nn.LayerNorm(D)}),
    }).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net


def torch_forward(net: nn.Module, audio, v2d, v3d):
    """The spec card's equations on torch modules (sequence-first attention as nn.MultiheadAttention takes it)."""
    han = net["hat_encoder"]["layers"][0]

    def layer(q, o):
        q, o = q.transpose(0, 1), o.transpose(0, 1)
        x = han["norm1"](q + han["cm_attn"](q, o, o)[0] + han["self_attn"](q, q, q)[0])
        x = han["norm2"](x + han["linear2"](torch.relu(han["linear1"](x))))
        return x.transpose(0, 1)

    b = audio.shape[0]
    x_a = net["fc_a"](audio)
    x_v = net["fc_fusion"](torch.cat([net["fc_v"](v2d).reshape(b, 10, 8, D).mean(2), net["fc_st"](v3d)], -1))
    x = torch.stack([layer(x_a, x_v), layer(x_v, x_a)], 2)
    prob = torch.sigmoid(net["fc_prob"](x))
    t_att, m_att = torch.softmax(net["fc_frame_att"](x), 1), torch.softmax(net["fc_av_att"](x), 2)
    return {"global_prob": (t_att * prob * m_att).sum((1, 2)), "a_prob": (t_att * prob)[:, :, 0].sum(1),
            "v_prob": (t_att * prob)[:, :, 1].sum(1), "frame_prob": prob}


def test_converted_checkpoint_matches_torch(tmp_path):
    import keras

    import research.video.avvp  # noqa: F401  (registration)
    from tools.convert_checkpoint import convert

    net = official_like_net()
    src = os.path.join(str(tmp_path), "MMIL_Net.pt")
    torch.save(net.state_dict(), src)
    result = convert("pytorch", "avvp_tiny", src, str(tmp_path / "converted"))
    assert result["skipped"] == sum(k.startswith(("audio_encoder.", "hat_encoder.norm")) for k in net.state_dict())
    model = keras.saving.load_model(result["outputs"]["model.keras"])
    rng = np.random.default_rng(0)
    feats = {"audio": rng.normal(size=(2, 10, 128)), "video_2d": rng.uniform(0, 2, (2, 80, 2048)),
             "video_3d": rng.uniform(0, 2, (2, 10, 512))}
    feats = {k: v.astype(np.float32) for k, v in feats.items()}
    with torch.no_grad():
        want = torch_forward(net, *(torch.from_numpy(feats[k]) for k in ("audio", "video_2d", "video_3d")))
    got = model(feats, training=False)
    for key, value in want.items():
        np.testing.assert_allclose(np.asarray(got[key]), value.numpy(), atol=2e-5, err_msg=key)
    assert float(np.ptp(want["frame_prob"].numpy())) > 0.2


def test_bad_state_dicts_name_the_key():
    import research.video.avvp  # noqa: F401
    from official.core import registry
    from official.core.checkpoint_convert import ConversionError
    from research.video.avvp import convert

    state = {k: v.numpy() for k, v in official_like_net().state_dict().items()}
    model = registry.create_model("avvp_tiny", **convert.infer_model_kwargs(state))
    missing = {k: v for k, v in state.items() if k != "hat_encoder.layers.0.cm_attn.in_proj_weight"}
    with pytest.raises(ConversionError, match=r"checkpoint has no 'hat_encoder\.layers\.0\.cm_attn\.in_proj_weight'"):
        convert.load_state_dict(model, missing)
    with pytest.raises(ConversionError, match="'fc_st.weight' has shape"):
        convert.load_state_dict(model, {**state, "fc_st.weight": state["fc_st.weight"][:, :100]})
    with pytest.raises(ConversionError, match="'fc_extra.weight' has no place"):
        convert.load_state_dict(model, {**state, "fc_extra.weight": state["fc_a.weight"]})
