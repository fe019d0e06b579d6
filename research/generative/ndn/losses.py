"""NDN training losses (reconstructed: the paper gives the terms, not the weights).

relation: cross-entropy of G_p's location and size logits against the complete graph, averaged over
valid ordered pairs, + KL of its graph latent; layout: L1 of G_l's teacher-forced boxes + KL of the
per-step latents; refinement: L1 of G_r's output from perturbed ground truth. keras.ops only.
"""

from __future__ import annotations

from keras import ops

from research.generative.ndn.layers import pair_mask_from


def _masked_mean(values, mask):
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)


def _cross_entropy(logits, labels):
    logp = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    onehot = ops.one_hot(ops.cast(labels, "int32"), logits.shape[-1])
    return -ops.sum(onehot * logp, axis=-1)


def kl_standard_normal(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the last axis."""
    return 0.5 * ops.sum(ops.square(mu) + ops.exp(logvar) - logvar - 1.0, axis=-1)


def ndn_losses(out: dict, batch: dict, kl_weight: float = 0.01) -> dict:
    """Loss terms and their weighted total from `NeuralDesignNetwork.train_forward` outputs."""
    node_mask = out["node_mask"]
    pm = pair_mask_from(node_mask)
    elem = node_mask[:, 1:]
    gt = ops.cast(batch["boxes"], "float32")
    terms = {
        "relation_loc_ce": _masked_mean(_cross_entropy(out["loc_logits"], batch["loc_full"]), pm),
        "relation_size_ce": _masked_mean(_cross_entropy(out["size_logits"], batch["size_full"]), pm),
        "relation_kl": ops.mean(kl_standard_normal(out["relation_mu"], out["relation_logvar"])),
        "layout_l1": _masked_mean(ops.mean(ops.abs(out["generated"] - gt), -1), elem),
        "layout_kl": _masked_mean(kl_standard_normal(out["layout_mu"], out["layout_logvar"]), elem),
        "refine_l1": _masked_mean(ops.mean(ops.abs(out["refined"] - gt), -1), elem),
    }
    terms["loss"] = (terms["relation_loc_ce"] + terms["relation_size_ce"] + terms["layout_l1"] + terms["refine_l1"]
                     + kl_weight * (terms["relation_kl"] + terms["layout_kl"]))
    return terms
