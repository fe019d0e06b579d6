"""info-ground's grounding head: CapInfoNCE (2-layer key / value MLPs, no region context) on precomputed
detector region features and caption word features, with its two training objectives.

Inputs (dict): region_feats (B, To, region_dim), region_mask (B, To) 1 = a real region; word_feats
(B, Tw, word_dim), word_mask (B, Tw) 1 = a noun / adjective token; neg_feats (B, N+1, word_dim) the cached
contextual features of the true noun (index 0) and its N language-model substitutes, neg_valid (B,) 1 = the
caption has a noun with negatives. Outputs: logits (B, B, Tw) (caption x image x word), neg_logits (B, N+1),
and the two masks (for the loss). `released config`: exp/ground/scripts/train.sh (--no_context,
--cap_info_nce_layers 2, d = 768 // 2); the text encoder (frozen BERT) is text.py's, outside this model.
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import LossTermTrackers, ZooModel
from research.multimodal.info_ground import losses as ig_losses
from research.multimodal.info_ground.layers import FactoredWordRegionAttention


@keras.saving.register_keras_serializable(package="eccv20zoo")
class InfoGround(LossTermTrackers, ZooModel):
    """The lang_sup criterion of info-ground as a Keras model (module docstring).

    Args:
        region_dim: detector RoI feature width (BUTD Faster R-CNN: 2048); o = u without the context transformer.
        word_dim: text encoder width (BERT-base: 768).
        dim: key / value width d (official: word_dim // 2 = 384).
        mlp_layers: Linear layers per key / value MLP (released: 2).
        max_regions, max_words, num_candidates: fixed input sizes To, Tw, N+1 (official: 30, 6, 26).
        mask_padding: pads out of the softmax and BN moments (ours); False = the authors' arithmetic.
        lang_weight, neg_weight: loss weights (train.sh: 1 and 1).
    """

    def __init__(self, region_dim: int = 2048, word_dim: int = 768, dim: int = 384, mlp_layers: int = 2,
                 max_regions: int = 30, max_words: int = 6, num_candidates: int = 26, mask_padding: bool = True,
                 lang_weight: float = 1.0, neg_weight: float = 1.0, **kwargs):
        inputs = {
            "region_feats": keras.Input((max_regions, region_dim), name="region_feats"),
            "region_mask": keras.Input((max_regions,), name="region_mask"),
            "word_feats": keras.Input((max_words, word_dim), name="word_feats"),
            "word_mask": keras.Input((max_words,), name="word_mask"),
            "neg_feats": keras.Input((num_candidates, word_dim), name="neg_feats"),
            "neg_valid": keras.Input((), name="neg_valid"),
        }
        criterion = FactoredWordRegionAttention(region_dim, word_dim, dim, mlp_layers, mask_padding, name="criterion")
        logits, neg_logits = criterion(inputs["region_feats"], inputs["region_mask"], inputs["word_feats"],
                                       inputs["word_mask"], inputs["neg_feats"], inputs["neg_valid"])
        outputs = {"logits": logits, "neg_logits": neg_logits,
                   "word_mask": layers.Identity(name="word_mask_out")(inputs["word_mask"]),
                   "neg_valid": layers.Identity(name="neg_valid_out")(inputs["neg_valid"])}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.track_loss_terms(ig_losses.LOSS_TERMS)

    @property
    def criterion(self) -> FactoredWordRegionAttention:
        return self.get_layer("criterion")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """lang_sup (image-word InfoNCE) + neg_noun losses; no targets (the pairing is the supervision)."""
        a = self.constructor_args
        total, terms = ig_losses.info_ground_loss(y_pred, a["lang_weight"], a["neg_weight"])
        return self.tracked_total(total, terms)

    def example_inputs(self, batch: int = 2, seed: int = 0) -> dict:
        """Random features with some padded regions / words and one caption without negatives."""
        import numpy as np

        a, rng = self.constructor_args, np.random.default_rng(seed)
        region_mask = (np.arange(a["max_regions"])[None] < rng.integers(1, a["max_regions"] + 1, (batch, 1)))
        word_mask = (np.arange(a["max_words"])[None] < rng.integers(1, a["max_words"] + 1, (batch, 1)))
        return {
            "region_feats": (rng.uniform(0, 1, (batch, a["max_regions"], a["region_dim"])) * region_mask[..., None]).astype("float32"),
            "region_mask": region_mask.astype("float32"),
            "word_feats": rng.normal(size=(batch, a["max_words"], a["word_dim"])).astype("float32") * word_mask[..., None],
            "word_mask": word_mask.astype("float32"),
            "neg_feats": rng.normal(size=(batch, a["num_candidates"], a["word_dim"])).astype("float32"),
            "neg_valid": (np.arange(batch) > 0).astype("float32") if batch > 1 else np.ones(1, "float32"),
        }
