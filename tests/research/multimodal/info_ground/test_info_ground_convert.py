"""Spec check 3 (loss parity) and METHOD_CONTRACT item 8 (official weights): a state dict with the authors' key
names and shapes (torch modules under CapInfoNCE's attribute names, tiny widths) converts through
tools.convert_checkpoint's dispatch, and the converted head gives the same image-word InfoNCE and negative-noun
losses as a torch forward of the spec's equations (training-mode BatchNorm over the flattened rows, pads
included: mask_padding=False), word masking included, to 1e-5; inference attention agrees too. A run of the
authors' own module file against the converted head is not written (README "Fidelity checks")."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch

nn = torch.nn
RD, W, D = 64, 32, 16  # info_ground_tiny widths


def mlp(d_in: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_in), nn.BatchNorm1d(d_in), nn.ReLU(), nn.Linear(d_in, d_out))


def official_like_criterion() -> nn.Module:
    """CapInfoNCE's modules under their attribute names: fo / fw (.f_layer) and ku / kw (.K_layer)."""
    torch.manual_seed(0)
    crit = nn.Module()
    for name, seq, d_in in (("fo", "f_layer", RD), ("fw", "f_layer", W), ("ku", "K_layer", RD), ("kw", "K_layer", W)):
        holder = nn.Module()
        setattr(holder, seq, mlp(d_in, D))
        setattr(crit, name, holder)
    with torch.no_grad():
        for module in crit.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
    return crit


def rows(seq: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    return seq(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)


def torch_losses(crit, o, w, word_pad, negs, noun_valid):
    """The spec card's equations (Loss 1 and Loss 2) on torch modules; word_pad 1 = masked word."""
    f = lambda n: getattr(getattr(crit, n), "f_layer" if n[0] == "f" else "K_layer")  # noqa: E731
    k_u, k_w = rows(f("ku"), o), rows(f("kw"), w)
    att = torch.softmax(torch.einsum("wtd,oud->wotu", k_w, k_u) / math.sqrt(D), -1)
    att_v_o = torch.einsum("wotu,oud->wotd", att, rows(f("fo"), o))
    logits = (att_v_o * rows(f("fw"), w)[:, None]).sum(-1)
    log_p = torch.log_softmax(logits, 1) * (1 - word_pad[:, None])
    log_p = log_p / ((1 - word_pad[:, None]).sum(2, keepdim=True) + 1e-6)
    lang = -log_p.sum(2).diag().mean()
    att_n = torch.softmax(torch.einsum("bnd,bud->bnu", rows(f("kw"), negs), k_u) / math.sqrt(D), -1)
    neg_logits = (torch.einsum("bnu,bud->bnd", att_n, rows(f("fo"), o)) * rows(f("fw"), negs)).sum(-1)
    log_n = torch.log_softmax(neg_logits, 1) * noun_valid[:, None]
    neg = -log_n[:, 0].sum() / (noun_valid.sum() + 1e-6)
    return lang, neg, att


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    import keras

    import research.multimodal.info_ground  # noqa: F401  (registration)
    from tools.convert_checkpoint import convert

    crit = official_like_criterion()
    tmp = tmp_path_factory.mktemp("ig_convert")
    src = os.path.join(str(tmp), "lang_sup_criterion_best")
    torch.save({"state_dict": crit.state_dict(), "step": 4000}, src)  # the authors' save format
    result = convert("pytorch", "info_ground_tiny", src, str(tmp / "out"), model_args="mask_padding=false")
    assert result["tensors"] == 32 and result["skipped"] == 4  # 4 x num_batches_tracked
    return crit, keras.saving.load_model(result["outputs"]["model.keras"])


def inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    b, to, tw, n = 4, 6, 6, 4
    region_mask = (np.arange(to)[None] < np.array([[6], [4], [5], [3]])).astype(np.float32)
    word_mask = (np.arange(tw)[None] < np.array([[3], [6], [1], [2]])).astype(np.float32)
    return {"region_feats": (rng.normal(size=(b, to, RD)) * region_mask[..., None]).astype(np.float32),
            "region_mask": region_mask,
            "word_feats": (rng.normal(size=(b, tw, W)) * word_mask[..., None]).astype(np.float32),
            "word_mask": word_mask, "neg_feats": rng.normal(size=(b, n, W)).astype(np.float32),
            "neg_valid": np.array([1, 0, 1, 1], np.float32)}


def test_losses_match_torch_in_training_mode(converted):
    """Check 3: both losses with training-mode BN (batch statistics over the B*T rows), masked words included."""
    from research.multimodal.info_ground import losses

    crit, model = converted
    x = inputs()
    t = {k: torch.from_numpy(v) for k, v in x.items()}
    crit.train()
    with torch.no_grad():
        lang, neg, _ = torch_losses(crit, t["region_feats"], t["word_feats"], 1 - t["word_mask"], t["neg_feats"],
                                    t["neg_valid"])
    out = model(x, training=True)
    got_lang = float(losses.image_word_nce(out["logits"], out["word_mask"]))
    got_neg = float(losses.neg_noun_nce(out["neg_logits"], out["neg_valid"]))
    assert abs(got_lang - float(lang)) < 1e-5 and abs(got_neg - float(neg)) < 1e-5, (got_lang, float(lang), got_neg, float(neg))
    assert float(lang) > 0.5 and float(neg) > 0.5  # not a trivially zero comparison


def test_inference_attention_matches_torch(converted):
    """Eval-mode BN (converted running statistics): the diagonal of the torch attention = pair_attention."""
    from research.multimodal.info_ground import convert

    _, model = converted
    crit = official_like_criterion().eval()  # fresh running statistics (the training-mode test moved both sides')
    convert.load_state_dict(model, crit.state_dict())
    x = inputs(1)
    t = {k: torch.from_numpy(v) for k, v in x.items()}
    with torch.no_grad():
        _, _, att = torch_losses(crit, t["region_feats"], t["word_feats"], 1 - t["word_mask"], t["neg_feats"], t["neg_valid"])
    want = np.stack([att[i, i].numpy() for i in range(4)])
    got = np.asarray(model.criterion.pair_attention(x["region_feats"], x["region_mask"], x["word_feats"], x["word_mask"]))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_bad_state_dicts_name_the_key():
    import research.multimodal.info_ground  # noqa: F401
    from official.core import registry
    from official.core.checkpoint_convert import ConversionError
    from research.multimodal.info_ground import convert

    state = {k: v.numpy() for k, v in official_like_criterion().state_dict().items()}
    assert convert.infer_model_kwargs(state) == {"mlp_layers": 2, "region_dim": RD, "dim": D, "word_dim": W}
    model = registry.create_model("info_ground_tiny")
    with pytest.raises(ConversionError, match=r"checkpoint has no 'kw\.K_layer\.0\.weight'"):
        convert.load_state_dict(model, {k: v for k, v in state.items() if k != "kw.K_layer.0.weight"})
    with pytest.raises(ConversionError, match="'fo.f_layer.3.weight' has shape"):
        convert.load_state_dict(model, {**state, "fo.f_layer.3.weight": state["fo.f_layer.3.weight"][:8]})
