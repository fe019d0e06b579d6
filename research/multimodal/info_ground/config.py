"""info-ground's config sections: grounding data (official/data/coco_captions.py, flickr30k_entities.py,
region_features.py) and the `info_ground` task (text encoder, fixed sizes)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class GroundingDataConfig(DataConfig):
    source: str = "coco_captions"  # coco_captions (training: captions JSON + tokens + negatives) | flickr30k_entities (evaluation: Sentences/ + Annotations/)
    path: str = "coco"  # dataset root; the file fields below are relative to it
    split: str = "train"  # flickr30k_entities: ROOT/<split>.txt lists the image ids
    captions_json: str = "annotations/captions_train2014.json"  # coco_captions: images + annotations
    noun_adj_json: str = "annotations/noun_adj_tokens_train.json"  # coco_captions: noun / adjective token positions per cap_id
    negatives_json: str = "bert_noun_negatives_train.json"  # coco_captions: substituted noun per caption
    negatives_h5: str = "bert_noun_negatives_train.h5py"  # coco_captions: (1 + N, word_dim) cached negative features
    detections: str = "detections/train"  # folder with boxes.hdf5 + features.hdf5 keyed by image name / id
    shuffle_buffer: int = 10_000  # training shuffle buffer (captions)


@dataclasses.dataclass
class InfoGroundTaskConfig(TaskConfig):
    name: str = "info_ground"  # registered Task class (research/multimodal/info_ground/task.py)
    num_classes: int = 0  # unused (no classes)
    vocabulary: str = "bert/vocab.txt"  # WordPiece vocab (bert-base-uncased vocab.txt); relative = under runtime.data_dir
    text_weights: str = "bert/model.weights.h5"  # BertBackbone .weights.h5 or keras-hub preset folder; "" = random init
    text_layers: int = 12  # BERT-base
    text_heads: int = 12  # BERT-base
    text_hidden: int = 768  # BERT-base hidden width = model.word_dim
    text_intermediate: int = 3072  # BERT-base FFN width
    text_max_length: int = 512  # BERT position embeddings
    max_tokens: int = 40  # caption length L incl. [CLS] / [SEP] (fixed for XLA and export); longer captions are cut
    max_phrases: int = 16  # evaluation: phrases per sentence kept (the rest are counted as dropped)
    max_gt_boxes: int = 32  # evaluation: ground-truth boxes per phrase kept
