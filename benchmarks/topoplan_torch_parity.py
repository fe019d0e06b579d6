"""TopoPlanGNN converted from the authors' GNN (random weights) gives the authors' outputs (METHOD_CONTRACT item 8).

    python benchmarks/topoplan_torch_parity.py --reference /tmp/topoplan_ref
        [--model topo_planning_gnn256] [--out benchmarks/results/topoplan_torch_parity.json]

The reference is edbeeching/learning_to_plan's train.py, layers.py and graph_dataset.py, unmodified copies kept
outside this repository (the folder is put on sys.path):
    for f in train.py layers.py graph_dataset.py; do git --git-dir=<mirror> show HEAD:$f > /tmp/topoplan_ref/$f; done
graph_dataset.py imports numba for a distance helper the GNN does not use; a stand-in whose `jit` returns the
function is installed when numba is missing. The GNN is built with the README's flags (hidden 256, 2-layer GRU,
6 steps, --new_bound_net --bound_update --store_hidden --use_probs --use_features) and its own initialisation
(seeded), every tensor perturbed by N(0, 0.02) so r_init and biases are not at their defaults; its state dict
goes through research/geometry/topo_planning/convert.py and both run on the same random graphs (batch 2).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.common import write_json_atomically  # noqa: E402

README_FLAGS = ["--hidden_size", "256", "--n_steps", "6", "--gru_depth", "2", "--use_weights", "--normalize",
                "--bound_update", "--new_bound_net", "--store_hidden", "--use_probs", "--use_features"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="Folder with the authors' train.py (outside the repo).")
    parser.add_argument("--model", default="topo_planning_gnn256", help="Registered variant to convert into.")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "topoplan_torch_parity.json"))
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.reference, "train.py")):
        raise SystemExit(f"--reference={args.reference}: no train.py there (see this script's docstring)")
    import torch

    try:
        import numba  # noqa: F401
    except ImportError:
        sys.modules["numba"] = types.SimpleNamespace(jit=lambda *a, **k: (lambda f: f))
    sys.path.insert(0, os.path.abspath(args.reference))
    import train as reference  # the authors' module

    flags = reference.parse_args().parse_args(README_FLAGS + ["--batch_size", str(args.batch)])
    torch.manual_seed(0)
    net = reference.GNN(97 + 512, 256, args=flags).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    state = {k: v.numpy() for k, v in net.state_dict().items()}

    import research.geometry.topo_planning  # noqa: F401  (registration)
    from official.core import registry
    from research.geometry.topo_planning import convert

    model = registry.create_model(args.model, **convert.infer_model_kwargs(state))
    report = convert.load_state_dict(model, state)
    rng = np.random.default_rng(0)
    b, n = args.batch, 32
    pos = rng.uniform(0, 10, (b, n, 2))
    dist = np.linalg.norm(pos[:, :, None] - pos[:, None], axis=-1)
    batch = {"local_distances": dist / dist.max(axis=(1, 2), keepdims=True), "linkages": rng.uniform(0, 1, (b, n, n)),
             "target_one_hot": np.eye(n)[rng.integers(0, n, b)], "features": rng.normal(size=(b, n, 512))}
    batch = {k: v.astype(np.float32) for k, v in batch.items()}
    start = time.time()
    with torch.no_grad():
        want_logits, want_dist = (t.numpy() for t in net({k: torch.from_numpy(v) for k, v in batch.items()}, "cpu"))
    torch_s = time.time() - start
    inputs = {"distances": batch["local_distances"], "linkages": batch["linkages"], "target": batch["target_one_hot"],
              "features": batch["features"], "node_mask": np.ones((b, n), np.float32)}
    start = time.time()
    out = model(inputs, training=False)
    keras_s = time.time() - start
    logits, distance = np.asarray(out["logits"]).reshape(-1, n), np.asarray(out["distance"]).reshape(-1, 1)
    result = {
        "reference": "edbeeching/learning_to_plan train.py GNN (README flags), random weights + N(0, 0.02)",
        "model": args.model, "tensors": len(report.assigned), "parameters": int(sum(v.size for v in state.values())),
        "batch": b, "logits_shape": list(want_logits.shape),
        "max_abs_diff_logits": float(np.max(np.abs(logits - want_logits))),
        "max_abs_diff_distance": float(np.max(np.abs(distance - want_dist))),
        "logit_range": float(np.ptp(want_logits)),
        "argmax_agreement": float(np.mean(np.argmax(logits, 1) == np.argmax(want_logits, 1))),
        "torch_forward_s": round(torch_s, 2), "keras_forward_s": round(keras_s, 2), "torch": torch.__version__,
    }
    print(result)
    write_json_atomically(result, args.out)


if __name__ == "__main__":
    main()
