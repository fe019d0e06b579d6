"""incremental_classification: class blocks per task, relabelled, with task ids; and the in-memory
example stream (official/data/array_examples.py) it reads CIFAR/MNIST through."""

from __future__ import annotations

import numpy as np

from official.core import config as config_lib
from official.data.array_examples import in_memory_examples
from official.tasks.incremental_classification import IncrementalClassificationTask, steps_per_task


def test_array_examples_shard_and_keep_pixels():
    images = np.arange(6 * 2 * 2 * 3, dtype=np.uint8).reshape(6, 2, 2, 3)
    labels = np.arange(6, dtype=np.int64)
    shard = list(in_memory_examples(images, labels, "x", num_shards=2, shard_index=1))
    assert [int(e["label"]) for e in shard] == [1, 3, 5]
    np.testing.assert_array_equal(shard[1]["image"].numpy(), images[3])
    assert shard[0]["source"].numpy() == b"x#1"


def test_tasks_take_their_class_block_relabelled(digits_dir):
    cfg = config_lib.resolve("side_tuning_digits", params_override=(
        f"train_data.path={digits_dir}/train,eval_data.path={digits_dir}/val,train_data.cache=false,eval_data.cache=false"))
    task = IncrementalClassificationTask(cfg)
    seen = {}
    for k in range(2):
        for x, y in task.task_dataset(cfg.eval_data, k, False, 128):
            assert set(x["task_id"].numpy().tolist()) == {k}
            seen.setdefault(k, []).extend(y.numpy().tolist())
    assert set(seen[0]) == set(seen[1]) == set(range(5))  # digits 0-4 and 5-9, both relabelled 0-4
    assert len(seen[0]) + len(seen[1]) == 364
    assert steps_per_task(cfg, 1433) == 220
