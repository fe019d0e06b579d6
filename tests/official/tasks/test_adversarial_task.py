"""The shared base of the GAN-trained tasks: a wrong config section or a model the GAN method did not wrap
is a one-line ConfigError naming the task, the section and what to set."""

from __future__ import annotations

import dataclasses

import keras
import pytest

from official.core import config as config_lib
from official.core.config import ConfigError
from official.tasks.adversarial_task import AdversarialTask
from official.tasks.few_shot_translation import FewShotTranslationTask
from official.tasks.image_translation import ImageTranslationTask


def test_wrong_sections_name_the_task_and_the_expected_class():
    cfg = config_lib.resolve("cyclegan_tiny_domains")
    assert ImageTranslationTask(cfg).skipped_examples() == 0  # no reader built yet
    with pytest.raises(ConfigError, match=r"^eval_data: image_translation needs a TranslationDataConfig \(path"):
        ImageTranslationTask(dataclasses.replace(cfg, eval_data=config_lib.DataConfig()))
    with pytest.raises(ConfigError, match=r"^task: few_shot_translation needs a FewShotTranslationTaskConfig"):
        FewShotTranslationTask(cfg)


def test_a_model_without_the_gan_method_is_refused_at_compile():
    task = ImageTranslationTask(config_lib.resolve("cyclegan_tiny_domains"))
    assert task.build_losses() is None
    plain = keras.Sequential([keras.layers.Dense(1)])
    with pytest.raises(ConfigError, match=r"image_translation trains with `gan` \(set training.method=gan"):
        task.compile_model(plain, "sgd", False)


def test_every_gan_task_shares_the_base():
    from research.generative.daae.task import FaceAgingTask
    from research.generative.topogan.task import TopologyGenerationTask

    for task in (ImageTranslationTask, FewShotTranslationTask, FaceAgingTask, TopologyGenerationTask):
        assert issubclass(task, AdversarialTask) and task.TASK_NAME and task.DATA_FIELDS, task
