"""TCGM's config sections (TF-free): multi-view data, the `tcgm` task and the `tcgm` training method."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig, TrainingMethodConfig
from official.data.newsgroups import REMOVE, TCGM_CATEGORIES


@dataclasses.dataclass
class MultiViewDataConfig(DataConfig):
    source: str = "csd"  # csd (ROOT/<view>.csd + labels.csd + folds/<split>.txt, official/data/multiview_csd.py) | newsgroups (ROOT/20news-bydate-{train,test}/<category>/<doc>, official/data/newsgroups.py)
    path: str = ""  # dataset root folder
    split: str = "train"  # csd: a fold name (train | test | ...); newsgroups: train | test
    views: tuple[str, ...] = ()  # csd: the view files' stems in the model's view order (left, right)
    labels: str = "labels"  # csd: stem of the labels file
    num_labeled: int = -1  # training: the first n instances of the split keep their labels (TCGM: 500); -1 = all
    shuffle: bool = False  # training: reshuffle the labeled and unlabeled streams every pass (the official loaders do not)
    categories: tuple[str, ...] = TCGM_CATEGORIES  # newsgroups: the categories kept (labels in sorted order)
    feature_split: int = 4000  # newsgroups: TF-IDF columns per view (dataprepare.py --split)
    remove: tuple[str, ...] = REMOVE  # newsgroups: message parts stripped (headers, footers, quotes)


@dataclasses.dataclass
class TcgmTaskConfig(TaskConfig):
    name: str = "tcgm"  # registered Task class (research/multimodal/tcgm/task.py)
    num_classes: int = 4  # classes (20 Newsgroups subset: 4)
    class_prior: str = "model"  # model (the model's class_prior; () = uniform, the official code) | labeled (the labeled subset's class frequencies)


@dataclasses.dataclass
class TcgmTrainingConfig(TrainingMethodConfig):
    method: str = "tcgm"  # research/multimodal/tcgm/method.py
    alpha: float = 1.0  # weight of -TCg on unlabeled batches (main.py --alpha); 0 = supervised only
    mode: str = "pairwise"  # pairwise (the official loop over view pairs) | joint (the paper's M-way TCg)
    threshold: float = 0.9  # the TC term starts once every view's labeled-set accuracy exceeds this (main.py --thresh); < 0 = from step 0
    gate_every: int = 0  # steps between threshold checks; 0 = one pass over the labeled set (the official epoch)
