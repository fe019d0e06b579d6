"""The frozen text encoder of info-ground: a keras-hub BERT with user-supplied weights, WordPiece tokenisation
with [CLS] / [SEP], and the word-piece-to-word mapping the phrase evaluation needs (TF side: imports keras_hub,
which imports TensorFlow whatever the Keras backend).

Facts (exp/ground/models/cap_encoder.py, eval_flickr_phrase_loc.py): bert-base-uncased, last-layer token
features (768-d), BERT in eval mode and frozen (no dropout: the backbone is built with dropout 0); captions are
encoded as [CLS] pieces [SEP]; a Flickr30k phrase covers the pieces of its words (`combine_tokens`: a word's
pieces are those whose concatenation, '##' stripped, spells the lower-cased word).
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from official.core.base_model import ZooModel
from official.core.errors import PathNotFoundError, UserError

CLS, SEP, PAD, UNK = "[CLS]", "[SEP]", "[PAD]", "[UNK]"


def read_vocabulary(path: str) -> list[str]:
    """One WordPiece entry per line (bert-base-uncased's vocab.txt); must hold [PAD], [UNK], [CLS], [SEP]."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: BERT vocabulary file does not exist")
    with open(path, encoding="utf-8") as f:
        vocab = [line.rstrip("\n") for line in f if line.rstrip("\n")]
    missing = [t for t in (PAD, UNK, CLS, SEP) if t not in vocab]
    if missing:
        raise UserError(f"{path}: vocabulary has no '{missing[0]}' entry (one WordPiece token per line)")
    return vocab


class CaptionTokenizer:
    """Lower-cased WordPiece (keras-hub) -> fixed-length [CLS] ... [SEP] [PAD] ids, and words -> piece indices."""

    def __init__(self, vocabulary: list[str], max_tokens: int):
        import keras_hub

        self.vocabulary = list(vocabulary)
        self.max_tokens = max_tokens
        self.wordpiece = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=self.vocabulary, lowercase=True, strip_accents=True, dtype="int32")
        self.ids = {t: i for i, t in enumerate(self.vocabulary)}

    def pieces(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        ragged = self.wordpiece(list(texts))
        rows = ragged.to_list() if hasattr(ragged, "to_list") else ragged
        return [[int(t) for t in row] for row in rows]

    def encode(self, captions: list[str]) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
        """token_ids (N, L) int32, padding_mask (N, L) int32 and the (unpadded, untruncated) token strings."""
        n, length = len(captions), self.max_tokens
        ids = np.full((n, length), self.ids[PAD], np.int32)
        mask = np.zeros((n, length), np.int32)
        tokens = []
        for i, row in enumerate(self.pieces(captions)):
            full = [self.ids[CLS], *row, self.ids[SEP]]
            kept = full[:length - 1] + [self.ids[SEP]] if len(full) > length else full
            ids[i, :len(kept)], mask[i, :len(kept)] = kept, 1
            tokens.append([self.vocabulary[t] for t in full])
        return ids, mask, tokens

    def word_token_indices(self, caption: str) -> list[list[int]]:
        """For each whitespace word of `caption`, the positions of its pieces in [CLS] pieces [SEP] (1-based:
        [CLS] is 0). WordPiece splits words independently, so tokenising the words one by one gives the same
        pieces as the whole caption (the mapping combine_tokens recovers by spelling)."""
        out, start = [], 1
        for row in self.pieces(caption.split()):
            out.append(list(range(start, start + len(row))))
            start += len(row)
        return out


def build_text_encoder(vocabulary_size: int, num_layers: int = 12, num_heads: int = 12, hidden_dim: int = 768,
                       intermediate_dim: int = 3072, max_sequence_length: int = 512, weights: str = "") -> keras.Model:
    """A frozen keras-hub BertBackbone (dropout 0 = eval mode); `weights`: a BertBackbone .weights.h5 or a
    keras-hub preset folder (config.json + model.weights.h5) of the same architecture; "" = random (tests)."""
    import keras_hub

    if weights and os.path.isdir(weights):
        backbone = keras_hub.models.BertBackbone.from_preset(weights, dropout=0.0)
    else:
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=vocabulary_size, num_layers=num_layers, num_heads=num_heads, hidden_dim=hidden_dim,
            intermediate_dim=intermediate_dim, max_sequence_length=max_sequence_length, dropout=0.0, name="bert")
        if weights:
            if not os.path.isfile(weights):
                raise PathNotFoundError(f"{weights}: BERT weights file (or keras-hub preset folder) does not exist")
            backbone.load_weights(weights)
    backbone.trainable = False
    return backbone


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SelectTokens(layers.Layer):
    """select_embed: (B, L, D) features, (B, Tw) positions (-1 = none) -> (B, Tw, D) features and (B, Tw) mask."""

    def call(self, features, positions):
        length = ops.shape(features)[1]
        positions = ops.cast(positions, "int32")
        valid = (positions >= 0) & (positions < length)
        index = ops.where(valid, positions, 0)
        picked = ops.take_along_axis(features, index[..., None], axis=1)
        mask = ops.cast(valid, features.dtype)
        return picked * mask[..., None], mask


@keras.saving.register_keras_serializable(package="eccv20zoo")
class GroundingWithText(ZooModel):
    """The training / inference network: frozen BERT (`text_encoder`) -> noun / adjective token features ->
    the InfoGround `head`. Inputs: token_ids, padding_mask (B, L) int32, word_index (B, Tw) int32 (-1 = pad),
    region_feats, region_mask, neg_feats, neg_valid (as the head). Outputs: the head's."""

    def __init__(self, head: keras.Model, text_encoder: keras.Model, max_tokens: int = 40, **kwargs):
        text_encoder.trainable = False
        a = head.constructor_args
        inputs = {
            "token_ids": keras.Input((max_tokens,), dtype="int32", name="token_ids"),
            "padding_mask": keras.Input((max_tokens,), dtype="int32", name="padding_mask"),
            "word_index": keras.Input((a["max_words"],), dtype="int32", name="word_index"),
            "region_feats": keras.Input((a["max_regions"], a["region_dim"]), name="region_feats"),
            "region_mask": keras.Input((a["max_regions"],), name="region_mask"),
            "neg_feats": keras.Input((a["num_candidates"], a["word_dim"]), name="neg_feats"),
            "neg_valid": keras.Input((), name="neg_valid"),
        }
        tokens = text_encoder({"token_ids": inputs["token_ids"], "segment_ids": ops.zeros_like(inputs["token_ids"]),
                               "padding_mask": inputs["padding_mask"]})["sequence_output"]
        words, word_mask = SelectTokens(name="select_words")(tokens, inputs["word_index"])
        outputs = head({"region_feats": inputs["region_feats"], "region_mask": inputs["region_mask"],
                        "word_feats": words, "word_mask": word_mask, "neg_feats": inputs["neg_feats"],
                        "neg_valid": inputs["neg_valid"]})
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.head, self.text_encoder = head, text_encoder

    def encode_text(self, token_ids, padding_mask):
        """(B, L, word_dim) last-layer token features."""
        token_ids, padding_mask = ops.convert_to_tensor(token_ids, "int32"), ops.convert_to_tensor(padding_mask, "int32")
        return self.text_encoder({"token_ids": token_ids, "segment_ids": ops.zeros_like(token_ids),
                                  "padding_mask": padding_mask}, training=False)["sequence_output"]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self.head.compute_loss(x, y, y_pred, sample_weight, training)

    @property
    def metrics(self) -> list[Any]:
        return [*super().metrics, *self.head.loss_trackers]
