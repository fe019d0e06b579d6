"""`cpn_dla34tiny_shapes` as a user runs it: write the easy shapes split, train the experiment's own
schedule (1000 CPU steps of batch 8 at 64 px) with the trainer, evaluate COCO AP on its val split.

This also covers "the pipeline learns" (augmentation, targets, losses, decoding, COCO evaluation).
"""

import pytest

from official.core import config as config_lib
from official.core import trainer
from official.vision.cpn.experiments import SHAPES_ARGS


@pytest.mark.slow
def test_shapes_reaches_ap50(tmp_path):
    from tools.make_shapes import write_shapes

    data = str(tmp_path / "shapes")
    write_shapes(data, **SHAPES_ARGS)
    override = ",".join(
        [
            f"train_data.path={data}/train", f"train_data.annotations={data}/annotations/instances_train.json",
            f"eval_data.path={data}/val", f"eval_data.annotations={data}/annotations/instances_val.json",
            "runtime.jit_compile=false",  # CPU: TF's conv kernels beat XLA's here
        ]
    )
    cfg = config_lib.resolve("cpn_dla34tiny_shapes", [], override)
    results = trainer.run_experiment(cfg, str(tmp_path / "run"), "train_and_eval")
    assert results["step"] == cfg.trainer.train_steps == 1000
    assert results["eval"]["images"] == SHAPES_ARGS["num_val"]
    assert results["eval"]["AP50"] > 0.5, results["eval"]
