"""CPU cost of compiling Mask2CAD's whole training step (CPN + heads + view encoder) with XLA.

Why: the model card records whether the whole-model jit_compile=True step is cheap enough for CI (it is
not: the CI test compiles only the Mask2CAD part, tests/research/three_d/mask2cad/test_mask2cad_short_run.py).
Prints process CPU time (all threads) and wall time after each phase, and the loss of two XLA steps.

    python -m benchmarks.mask2cad_xla_whole_step --out=/tmp/m2c_xla --size=64 --samples=32 --batch=2
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the rendered primitives (written if absent)")
    parser.add_argument("--size", type=int, default=64, help="image and network input size in pixels")
    parser.add_argument("--samples", type=int, default=32, help="CPN stage-2 rows per image (cpn_num_samples)")
    parser.add_argument("--batch", type=int, default=2, help="images per training step")
    args = parser.parse_args()
    t0, w0 = time.process_time(), time.time()

    def lap(msg: str) -> None:
        print(f"[{time.process_time() - t0:7.1f} s cpu {time.time() - w0:7.1f} s wall] {msg}", flush=True)

    import keras

    from official.core import config as config_lib
    from official.core.task import build_task
    from tools import make_pix3d_primitives

    lap("imports")
    data = f"{args.out}/pix3d"
    make_pix3d_primitives.write_pix3d_primitives(data, train=24, test=8, size=args.size, seed=0)
    split = f"{data}/pix3d_s1_train.json"
    cfg = config_lib.resolve("mask2cad_small_pix3d", params_override=(
        f"task.views_per_model=2,train_data.path={data}/pix3d.json,train_data.split_file={split},"
        f"eval_data.path={data}/pix3d.json,eval_data.split_file={split},train_data.image_size={args.size}"))
    cfg.model = config_lib.model_config("mask2cad_tiny", cpn_num_samples=args.samples, cpn_roi_sampling_ratio=1,
                                        input_size=args.size)
    task = build_task(cfg)
    keras.utils.set_random_seed(0)
    model = task.build_model()
    x, y = next(iter(task.build_inputs(cfg.train_data, True, args.batch)))
    lap("task, model and one batch built")
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=None, jit_compile=True)
    for step in (1, 2):
        loss = model.train_on_batch(x, y, return_dict=True)["loss"]
        lap(f"XLA step {step}: loss {loss:.4f}")


if __name__ == "__main__":
    main()
