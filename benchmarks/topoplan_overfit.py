"""Spec check 7 at full length: the tiny TopoPlan GNN overfits 8 fixture graphs (every one of their 256 targets)
in 300 steps to a train action accuracy above 0.95.

    python benchmarks/topoplan_overfit.py [--steps 300] [--out benchmarks/results/topoplan_overfit.json]

The fixture is tests/research/geometry/topo_planning/test_topoplan_data.py's (8 graphs of
tools/make_topo_graphs.py in the converted layout, seed 0), read through the topo_planning Task with
all_targets=True; topo_planning_tiny (6 rounds, 2-layer GRU, hidden 32, features off), Adam amsgrad lr 1e-2,
global clip 2.0, batch 8 drawn from the 256 (graph, target) pairs. The tests run the 30-step version.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.common import write_json_atomically  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "topoplan_overfit.json"))
    args = parser.parse_args()
    import keras

    from official.core import config as config_lib
    from official.core.task import build_task
    from tests.research.geometry.topo_planning.test_topoplan_data import write_fixture

    root = tempfile.mkdtemp(prefix="topoplan_overfit_")
    write_fixture(root)
    overrides = (f"train_data.path={root},eval_data.path={root},train_data.data_limit=8,eval_data.split=train,"
                 "eval_data.data_limit=8,train_data.all_targets=true,eval_data.all_targets=true,"
                 "model.n_steps=6,model.gru_depth=2")
    cfg = config_lib.resolve("topo_planning_tiny_synth_graphs", params_override=overrides)
    task = build_task(cfg)
    keras.utils.set_random_seed(0)
    model = task.build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2, amsgrad=True, global_clipnorm=2.0))
    train = iter(task.build_inputs(cfg.train_data, True, 8))
    before = task.evaluate(model, task.build_inputs(cfg.eval_data, False, 32))
    start, cpu = time.time(), time.process_time()
    for step in range(args.steps):
        x, y = next(train)
        logs = model.train_on_batch(x, {k: y[k] for k in ("actions", "weights")}, return_dict=True)
        if step % 50 == 0:
            print(step, {k: round(float(v), 4) for k, v in logs.items()}, flush=True)
    after = task.evaluate(model, task.build_inputs(cfg.eval_data, False, 32))
    result = {"steps": args.steps, "model": "topo_planning_tiny (6 rounds, 2-layer GRU)", "pairs": int(after["graphs"]),
              "untrained": before, "trained": after, "train_seconds": round(time.time() - start, 1),
              "train_cpu_seconds": round(time.process_time() - cpu, 1), "passes": after["action_accuracy"] > 0.95}
    print(result)
    write_json_atomically(result, args.out)


if __name__ == "__main__":
    main()
