"""RPL experiments (METHOD_CONTRACT item 4): osr.py's recipe per dataset, the K of each variant, the
digits run's transform, and split_override selecting ARPL's other split items on the command line."""

from __future__ import annotations

import pytest

from official.core import config as config_lib
from official.vision.rpl.experiments import split_override


@pytest.mark.parametrize("dataset, model, k", [
    ("mnist", "rpl_classifier32", 6), ("svhn", "rpl_classifier32", 6), ("cifar10", "rpl_classifier32", 6),
    ("cifar_plus10", "rpl_classifier32_cifar_plus", 4), ("cifar_plus50", "rpl_classifier32_cifar_plus", 4),
    ("tinyimagenet", "rpl_classifier32_tinyimagenet", 20),
])
def test_experiment_holds_the_osr_recipe(dataset, model, k):
    cfg = config_lib.resolve(f"rpl_classifier32_{dataset}")
    assert cfg.model.name == model and cfg.model.classes == cfg.task.num_classes == len(cfg.train_data.classes) == k
    assert (cfg.model.temp, cfg.model.weight_pl, cfg.model.num_centers) == (1.0, 0.1, 1)  # osr.py defaults
    assert cfg.trainer.global_batch_size == 64 and cfg.trainer.epochs == 100
    assert cfg.trainer.lr_schedule.milestones == (30.0, 60.0, 90.0)
    if dataset == "tinyimagenet":  # osr.py: Adam(lr 1e-3), no weight decay; 64 px
        assert cfg.trainer.optimizer.name == "adam" and cfg.trainer.lr_schedule.base_lr == 1e-3
        assert cfg.trainer.weight_decay == 0.0 and cfg.model.input_shape == (64, 64, 3)
    else:
        assert cfg.trainer.optimizer.name == "sgd" and cfg.trainer.optimizer.momentum == 0.9
        assert cfg.trainer.lr_schedule.base_lr == 0.1 and cfg.trainer.weight_decay == 1e-4


def test_split_override_selects_arpl_item_and_digits_run_keeps_glyphs_unflipped():
    assert split_override("cifar10", 3) == (  # osr.py run 3 = split.py cifar10 entry [1]
        "train_data.classes=[7,6,4,9,0,1],eval_data.classes=[7,6,4,9,0,1],task.unknown_data.classes=[2,3,5,8]"
    )
    cfg = config_lib.resolve("rpl_classifier32_cifar_plus50", params_override=split_override("cifar_plus50", 4))
    assert cfg.train_data.classes == cfg.eval_data.classes == (4, 7, 9, 1)  # entry [0]
    assert len(cfg.task.unknown_data.classes) == 50 and cfg.task.unknown_data.classes[:3] == (27, 94, 29)
    digits = config_lib.resolve("rpl_classifier32_digits")
    assert not digits.train_data.horizontal_flip and digits.train_data.pad_crop == 0
    assert digits.trainer.train_steps == 200 and digits.train_data.classes == (6, 3, 4, 9, 8, 2)
