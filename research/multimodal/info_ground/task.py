"""The `info_ground` Task: COCO-captions training on detector features with a frozen BERT, Flickr30k Entities
phrase grounding evaluation, and the SavedModel's two signatures.

Training elements (official/data/coco_captions.py + region_features.py): token_ids / padding_mask (L,),
word_index (Tw,) noun / adjective piece positions (-1 pad), region_feats (To, D) + region_mask, neg_feats
(1 + N, Dw) + neg_valid. No targets: the in-batch pairing is the supervision (losses.py).
Evaluation (eval_flickr_phrase_loc.py): every token of the caption attends over the image's regions; a phrase
scores a region by the max over its words' pieces; the top-ranked boxes give accuracy (R@1), R@5, R@10 and the
pointing game (official/evaluation/phrase_grounding.py).
Serving: serving_default(region_feats (B, To, D), region_mask (B, To), token_feats (B, L, Dw), token_mask (B, L))
-> {attention (B, L, To)}; encode_text(token_ids (B, L), padding_mask (B, L)) int32 -> {token_feats (B, L, Dw)}.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.registry import register_task
from official.core.task import Task
from official.data import coco_captions, flickr30k_entities
from official.data.region_features import RegionFeatures
from official.evaluation.phrase_grounding import GroundingAccuracy, rank_regions
from research.multimodal.info_ground import text
from research.multimodal.info_ground.config import GroundingDataConfig, InfoGroundTaskConfig

log = logging.getLogger(__name__)


@register_task("info_ground")
class InfoGroundTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, InfoGroundTaskConfig):
            raise ConfigError("task: info_ground needs an InfoGroundTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), GroundingDataConfig):
                raise ConfigError(f"{key}: info_ground needs a GroundingDataConfig (source, path, files)")
        self._tokenizer = None
        self._cache: dict[tuple, dict] = {}
        self._skipped: Counter = Counter()

    # --- text ----------------------------------------------------------------------------------
    def _path(self, value: str) -> str:
        if not value or os.path.isabs(value):
            return value
        return os.path.abspath(os.path.join(os.path.expanduser(self.config.runtime.data_dir or "."), value))

    def tokenizer(self) -> text.CaptionTokenizer:
        if self._tokenizer is None:
            vocab = text.read_vocabulary(self._path(self.config.task.vocabulary))
            self._tokenizer = text.CaptionTokenizer(vocab, self.config.task.max_tokens)
        return self._tokenizer

    def build_model(self) -> keras.Model:
        """GroundingWithText: the registered head + the frozen keras-hub BERT with the configured weights."""
        head = super().build_model()
        t = self.config.task
        if t.text_hidden != head.constructor_args["word_dim"]:
            raise ConfigError(f"task.text_hidden: {t.text_hidden} differs from model.word_dim "
                              f"{head.constructor_args['word_dim']}")
        bert = text.build_text_encoder(len(self.tokenizer().vocabulary), t.text_layers, t.text_heads, t.text_hidden,
                                       t.text_intermediate, t.text_max_length, self._path(t.text_weights))
        return text.GroundingWithText(head, bert, t.max_tokens, name="info_ground")

    # --- data ----------------------------------------------------------------------------------
    def _regions(self, data: GroundingDataConfig) -> RegionFeatures:
        return RegionFeatures(os.path.join(data.path, data.detections), self.config.model.region_dim)

    def _coco(self, data: GroundingDataConfig) -> dict:
        m = self.config.model
        captions, skipped = coco_captions.read_captions(os.path.join(data.path, data.captions_json))
        nouns = coco_captions.read_noun_adj_tokens(os.path.join(data.path, data.noun_adj_json))
        negatives = coco_captions.NegativeNouns(os.path.join(data.path, data.negatives_json),
                                                os.path.join(data.path, data.negatives_h5), m.num_candidates, m.word_dim)
        regions = self._regions(data)
        names = regions.names()
        kept = []
        for c in captions:
            if c.image_name not in names:
                skipped["missing_detections"] += 1
            elif not nouns.get(c.cap_id):
                skipped["no_noun_adj_tokens"] += 1
            else:
                kept.append(c)
        coco_captions.log_skipped(os.path.basename(data.captions_json), skipped, len(captions))
        if not kept:
            raise coco_captions.CocoCaptionsError(f"{data.captions_json}: no usable caption (skipped {dict(skipped)})")
        ids, mask, _ = self.tokenizer().encode([c.caption for c in kept])
        word_index = np.full((len(kept), m.max_words), -1, np.int32)
        for i, c in enumerate(kept):
            positions = nouns[c.cap_id][:m.max_words]  # pad_noun_adj_token_ids
            word_index[i, :len(positions)] = positions
        noun_ids = np.array([negatives.noun_id(c.image_id, c.cap_id) for c in kept], np.int32)
        self._skipped.update(skipped)
        return {"captions": kept, "token_ids": ids, "padding_mask": mask, "word_index": word_index,
                "noun_ids": noun_ids, "negatives": negatives, "regions": regions}

    def _flickr(self, data: GroundingDataConfig) -> dict:
        t, m = self.config.task, self.config.model
        tok = self.tokenizer()
        image_ids = flickr30k_entities.read_split(os.path.join(data.path, f"{data.split}.txt"))
        regions = self._regions(data)
        names, skipped = regions.names(), Counter()
        rows = []
        for image_id in image_ids:
            if image_id not in names:
                skipped["missing_detections"] += 1
                continue
            annos = flickr30k_entities.read_annotations(os.path.join(data.path, "Annotations", f"{image_id}.xml"))
            for sentence in flickr30k_entities.read_sentences(os.path.join(data.path, "Sentences", f"{image_id}.txt")):
                pieces = tok.word_token_indices(sentence["sentence"])
                phrases = []
                for p in sentence["phrases"]:
                    gt = annos["boxes"].get(p["phrase_id"])
                    if not gt:  # scene / no-box entities are not scored (eval_flickr_phrase_loc.py)
                        continue
                    positions = [i for w in range(len(p["phrase"].split())) for i in pieces[p["first_word_index"] + w]]
                    positions = [i for i in positions if i < t.max_tokens - 1]
                    if not positions:
                        skipped["phrase_truncated"] += 1
                        continue
                    phrases.append((positions, gt[:t.max_gt_boxes]))
                if len(phrases) > t.max_phrases:
                    skipped["phrases_over_max"] += len(phrases) - t.max_phrases
                    phrases = phrases[:t.max_phrases]
                rows.append((image_id, sentence["sentence"], phrases))
        coco_captions.log_skipped(f"{data.split}.txt", skipped, len(image_ids))
        if not rows:
            raise flickr30k_entities.Flickr30kFormatError(f"{data.path}/{data.split}.txt: no usable sentence "
                                                          f"(skipped {dict(skipped)})")
        ids, mask, _ = tok.encode([r[1] for r in rows])
        n, p_max, g_max = len(rows), t.max_phrases, t.max_gt_boxes
        phrase_tokens = np.zeros((n, p_max, t.max_tokens), np.float32)
        gt_boxes = np.zeros((n, p_max, g_max, 4), np.float32)
        gt_valid = np.zeros((n, p_max, g_max), np.float32)
        for i, (_, _, phrases) in enumerate(rows):
            for j, (positions, gt) in enumerate(phrases):
                phrase_tokens[i, j, positions] = 1.0
                gt_boxes[i, j, :len(gt)], gt_valid[i, j, :len(gt)] = gt, 1.0
        self._skipped.update(skipped)
        return {"images": [r[0] for r in rows], "token_ids": ids, "padding_mask": mask, "phrase_tokens": phrase_tokens,
                "gt_boxes": gt_boxes, "gt_valid": gt_valid, "regions": regions, "max_regions": m.max_regions}

    def examples(self, data: GroundingDataConfig) -> dict:
        key = tuple(sorted(vars(data).items()))
        if key not in self._cache:
            if data.source == "coco_captions":
                self._cache[key] = self._coco(data)
            elif data.source == "flickr30k_entities":
                self._cache[key] = self._flickr(data)
            else:
                raise ConfigError(f"source: {data.source!r}; info_ground reads coco_captions or flickr30k_entities")
        return self._cache[key]

    def skipped_examples(self) -> int:
        return sum(self._skipped.values())

    def num_examples(self, data) -> int | None:
        return len(self.examples(data)["token_ids"])

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ex, m = self.examples(data), self.config.model
        n = len(ex["token_ids"])
        if data.source == "coco_captions":
            ds = self._coco_dataset(ex, training, data)
        else:
            ds = self._flickr_dataset(ex)
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        del n, m
        return ds.batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    def _coco_dataset(self, ex: dict, training: bool, data: GroundingDataConfig):
        m = self.config.model
        caps, regions, negatives = ex["captions"], ex["regions"], ex["negatives"]

        def load(i):
            c = caps[int(i)]
            _, feats, mask = regions.load(c.image_name, m.max_regions)
            neg = negatives.load(c.image_id, c.cap_id, int(ex["noun_ids"][int(i)]))
            valid = np.float32(neg is not None)
            if neg is None:
                neg = np.zeros((m.num_candidates, m.word_dim), np.float32)
            return feats, mask, neg, valid

        ds = tf.data.Dataset.range(len(caps))
        if training:
            ds = ds.shuffle(min(len(caps), data.shuffle_buffer), seed=self.config.runtime.seed,
                            reshuffle_each_iteration=True).repeat()
        token_ids, padding_mask, word_index = ex["token_ids"], ex["padding_mask"], ex["word_index"]

        def fetch(i):
            feats, mask, neg, valid = tf.numpy_function(load, [i], [tf.float32] * 4, stateful=False)
            return {"token_ids": tf.gather(token_ids, i), "padding_mask": tf.gather(padding_mask, i),
                    "word_index": tf.gather(word_index, i),
                    "region_feats": tf.ensure_shape(feats, (m.max_regions, m.region_dim)),
                    "region_mask": tf.ensure_shape(mask, (m.max_regions,)),
                    "neg_feats": tf.ensure_shape(neg, (m.num_candidates, m.word_dim)),
                    "neg_valid": tf.ensure_shape(valid, ())}

        return ds.map(fetch, num_parallel_calls=2 if training else None)

    def _flickr_dataset(self, ex: dict):
        m = self.config.model
        images, regions = ex["images"], ex["regions"]

        def load(i):
            return regions.load(images[int(i)], m.max_regions)

        def fetch(i):
            boxes, feats, mask = tf.numpy_function(load, [i], [tf.float32] * 3, stateful=False)
            inputs = {"token_ids": tf.gather(ex["token_ids"], i), "padding_mask": tf.gather(ex["padding_mask"], i),
                      "region_feats": tf.ensure_shape(feats, (m.max_regions, m.region_dim)),
                      "region_mask": tf.ensure_shape(mask, (m.max_regions,))}
            targets = {"boxes": tf.ensure_shape(boxes, (m.max_regions, 4)),
                       "phrase_tokens": tf.gather(ex["phrase_tokens"], i), "gt_boxes": tf.gather(ex["gt_boxes"], i),
                       "gt_valid": tf.gather(ex["gt_valid"], i)}
            return inputs, targets

        return tf.data.Dataset.range(len(images)).map(fetch)

    # --- objective -----------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss (losses.info_ground_loss)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation ----------------------------------------------------------------------------
    def score(self, attention_fn, dataset, steps: int | None = None) -> dict[str, float]:
        """Grounding metrics of attention_fn(inputs) -> (B, L, To) token-region attention over `dataset`."""
        metric = GroundingAccuracy()
        for i, (inputs, targets) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            att = np.asarray(attention_fn(inputs))
            region_mask = np.asarray(inputs["region_mask"])
            t = {k: np.asarray(v) for k, v in targets.items()}
            for b in range(len(att)):
                for j in range(t["phrase_tokens"].shape[1]):
                    tokens = t["phrase_tokens"][b, j] > 0
                    if not tokens.any():
                        continue
                    phrase_att = att[b][tokens].max(axis=0)  # combine_att: max over the phrase's pieces
                    order = rank_regions(phrase_att, region_mask[b])
                    gt = t["gt_boxes"][b, j][t["gt_valid"][b, j] > 0]
                    metric.update(t["boxes"][b][order], gt)
        return metric.result()

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        criterion = model.head.criterion

        @tf.function(reduce_retracing=True)
        def attention(inputs):
            feats = model.encode_text(inputs["token_ids"], inputs["padding_mask"])
            return criterion.pair_attention(inputs["region_feats"], inputs["region_mask"], feats,
                                            inputs["padding_mask"], training=False)

        return self.score(attention, dataset, steps)

    def saved_model_predict_fn(self, loaded):
        encode, attend = loaded.signatures["encode_text"], loaded.signatures["serving_default"]

        def predict(inputs):
            feats = encode(token_ids=tf.cast(inputs["token_ids"], tf.int32),
                           padding_mask=tf.cast(inputs["padding_mask"], tf.int32))["token_feats"]
            return attend(region_feats=inputs["region_feats"], region_mask=inputs["region_mask"], token_feats=feats,
                          token_mask=tf.cast(inputs["padding_mask"], tf.float32))["attention"]

        return predict

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return self.score(predict_fn, dataset, steps)

    # --- export --------------------------------------------------------------------------------
    def _specs(self) -> tuple[list, list]:
        m, length = self.config.model, self.config.task.max_tokens
        attend = [tf.TensorSpec([None, m.max_regions, m.region_dim], tf.float32, name="region_feats"),
                  tf.TensorSpec([None, m.max_regions], tf.float32, name="region_mask"),
                  tf.TensorSpec([None, length, m.word_dim], tf.float32, name="token_feats"),
                  tf.TensorSpec([None, length], tf.float32, name="token_mask")]
        encode = [tf.TensorSpec([None, length], tf.int32, name="token_ids"),
                  tf.TensorSpec([None, length], tf.int32, name="padding_mask")]
        return attend, encode

    def serving_signatures(self, model, image_size: int) -> dict:
        attend_specs, encode_specs = self._specs()
        criterion = model.head.criterion

        def attend(region_feats, region_mask, token_feats, token_mask):
            return {"attention": criterion.pair_attention(region_feats, region_mask, token_feats, token_mask,
                                                          training=False)}

        def encode(token_ids, padding_mask):
            return {"token_feats": model.encode_text(token_ids, padding_mask)}

        return {"serving_default": (attend, attend_specs), "encode_text": (encode, encode_specs)}

    def _examples(self, n: int) -> tuple[dict, dict]:
        m, length = self.config.model, self.config.task.max_tokens
        rng = np.random.default_rng(0)
        vocab = len(self.tokenizer().vocabulary)
        lengths = rng.integers(3, length + 1, n)
        pad = (np.arange(length)[None] < lengths[:, None]).astype(np.int32)
        encode = {"token_ids": (rng.integers(0, vocab, (n, length)) * pad).astype(np.int32), "padding_mask": pad}
        region_mask = (np.arange(m.max_regions)[None] < rng.integers(1, m.max_regions + 1, (n, 1))).astype(np.float32)
        attend = {"region_feats": (rng.uniform(0, 1, (n, m.max_regions, m.region_dim)) * region_mask[..., None]).astype(np.float32),
                  "region_mask": region_mask, "token_feats": rng.normal(size=(n, length, m.word_dim)).astype(np.float32),
                  "token_mask": pad.astype(np.float32)}
        return attend, encode

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        attend, encode = self._examples(1)
        return [("serving_default", attend), ("encode_text", encode)][:max(n, 1)] + [("serving_default", attend)] * max(0, n - 2)

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        attend, encode = self._examples(max(1, min(n, 4)))
        att = model.head.criterion.pair_attention(attend["region_feats"], attend["region_mask"], attend["token_feats"],
                                                  attend["token_mask"], training=False)
        feats = model.encode_text(encode["token_ids"], encode["padding_mask"])
        return [("serving_default", attend, {"attention": np.asarray(att)}),
                ("encode_text", encode, {"token_feats": np.asarray(feats)})]
