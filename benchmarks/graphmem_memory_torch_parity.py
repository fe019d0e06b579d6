"""GraphMemVOS memory module (research/video/graphmem_vos/memory.py) beside the authors' `Memory` in PyTorch
with random weights (METHOD_CONTRACT item 8's forward parity; spec checks 1-2 for the memory).

    python benchmarks/graphmem_memory_torch_parity.py --reference /tmp/gmvos_ref \
        [--out benchmarks/results/graphmem_memory_torch_parity.json]

`--reference` holds unmodified copies of carrierlxk/GraphMemVOS (commit a3487bcf) files:
    mkdir -p /tmp/gmvos_ref/models/units && for f in graph_memory helpers units/ConvGRU2; do
      git --git-dir=<mirror> show HEAD:models/$f.py > /tmp/gmvos_ref/models/$f.py; done
(units/__init__.py is left out: it imports modules the repository does not contain; torchvision, which
graph_memory.py imports but `Memory` does not use, is stubbed if absent). Both modules get the same random
weights (the converter's `Memory` mapping, research/video/graphmem_vos/convert.py `load_memory_state_dict`:
1x1 conv / linear weights transposed into the Keras Dense kernels); cases with T = 1, 2, 3, 6
memory nodes at 5 x 7, the 480p feature size 30 x 54 with 6 nodes, and our fixed capacity of 6 with 3
valid nodes beside the reference with 3 nodes. Also recorded: the reference output does not change when
conv_fusion, ConvGRU_m and linear_e are perturbed (their updates never reach the readout in the release),
and how far our "paper" update is from the release.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import write_json_atomically  # noqa: E402

TOL = 1e-4


def load_reference(root: str):
    import importlib

    models_dir = os.path.join(root, "models")
    if not os.path.isfile(os.path.join(models_dir, "graph_memory.py")):
        raise SystemExit(f"--reference={root}: models/graph_memory.py not found (see this script's docstring)")
    try:
        import torchvision  # noqa: F401
    except ImportError:
        stub = types.ModuleType("torchvision")
        stub.models = types.ModuleType("torchvision.models")
        sys.modules["torchvision"], sys.modules["torchvision.models"] = stub, stub.models
    sys.path.insert(0, models_dir)  # `import units.ConvGRU2` (namespace package)
    package = types.ModuleType("gmvos_ref")
    package.__path__ = [models_dir]
    sys.modules["gmvos_ref"] = package
    return importlib.import_module("gmvos_ref.graph_memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="Folder with the authors' models/ files (outside the repo).")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "graphmem_memory_torch_parity.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    ref_module = load_reference(args.reference)
    import torch

    from research.video.graphmem_vos.convert import load_memory_state_dict
    from research.video.graphmem_vos.memory import EpisodicGraphMemory

    torch.manual_seed(0)
    ref = ref_module.Memory().eval()
    with torch.no_grad():
        for p in ref.parameters():  # non-zero biases, weights large enough that 5 GRU steps matter
            p.normal_(0, 0.05)
    ours, paper = EpisodicGraphMemory(), EpisodicGraphMemory(graph_update="paper")
    for layer in (ours, paper):
        layer.build()
        load_memory_state_dict(layer, ref.state_dict())
    params = {"reference": sum(p.numel() for p in ref.parameters()), "ours": ours.count_params()}
    rng = np.random.default_rng(0)
    cases = {}
    worst = 0.0
    for name, b, t, h, w, valid in (("T1_5x7", 2, 1, 5, 7, 1), ("T2_5x7", 2, 2, 5, 7, 2), ("T3_5x7", 2, 3, 5, 7, 3),
                                    ("T6_5x7", 1, 6, 5, 7, 6), ("T6_480p_30x54", 1, 6, 30, 54, 6),
                                    ("capacity6_valid3_5x7", 2, 6, 5, 7, 3)):
        mk = rng.standard_normal((b, t, h, w, 128)).astype(np.float32)
        mv = rng.standard_normal((b, t, h, w, 512)).astype(np.float32)
        qk = rng.standard_normal((b, h, w, 128)).astype(np.float32)
        qv = rng.standard_normal((b, h, w, 512)).astype(np.float32)
        as_torch = lambda x: torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))  # noqa: E731
        start = time.perf_counter()
        with torch.no_grad():
            want, _ = ref(as_torch(mk[:, :valid]), as_torch(mv[:, :valid]), as_torch(qk), as_torch(qv))
        want = np.moveaxis(want.numpy(), 1, -1)
        ref_s = time.perf_counter() - start
        mask = np.arange(t)[None].repeat(b, 0) < valid
        got = np.asarray(ours(mk, mv, qk, qv, mask))
        diff = float(np.max(np.abs(got - want)))
        worst = max(worst, diff)
        cases[name] = {"batch": b, "nodes": t, "valid_nodes": valid, "feature_hw": [h, w],
                       "output_shape": list(got.shape), "max_abs_difference": diff,
                       "output_abs_max": float(np.abs(want).max()), "reference_seconds": round(ref_s, 2)}
        if valid >= 2 and h == 5:
            cases[name]["paper_minus_release_max_abs"] = float(np.max(np.abs(np.asarray(paper(mk, mv, qk, qv, mask)) - got)))
    # the release's node updates are dead code: perturbing their weights leaves the reference output unchanged
    mk, mv = (rng.standard_normal((1, 3, 5, 7, c)).astype(np.float32) for c in (128, 512))
    qk, qv = rng.standard_normal((1, 5, 7, 128)).astype(np.float32), rng.standard_normal((1, 5, 7, 512)).astype(np.float32)
    as_torch = lambda x: torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))  # noqa: E731
    with torch.no_grad():
        before = ref(as_torch(mk), as_torch(mv), as_torch(qk), as_torch(qv))[0].numpy()
        for module in (ref.conv_fusion, ref.ConvGRU_m, ref.linear_e):
            for p in module.parameters():
                p.add_(torch.randn_like(p))
        after = ref(as_torch(mk), as_torch(mv), as_torch(qk), as_torch(qv))[0].numpy()
    dead = float(np.max(np.abs(after - before)))
    out = {"command": " ".join(["python benchmarks/graphmem_memory_torch_parity.py", *sys.argv[1:]]),
           "reference": "carrierlxk/GraphMemVOS a3487bcf models/graph_memory.py Memory + models/units/ConvGRU2.py "
                        "(unmodified copies), torch " + torch.__version__,
           "parameters": params, "cases": cases, "max_abs_difference": worst, "tolerance": TOL,
           "reference_change_when_node_update_weights_perturbed": dead,
           "passed": worst <= TOL and params["reference"] == params["ours"] == 3_427_840 and dead == 0.0}
    write_json_atomically(out, args.out)
    print(json.dumps({"params": params, "max_abs_difference": worst, "dead_node_update_change": dead}),
          "passed" if out["passed"] else "FAILED", f"-> {args.out}")
    if not out["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
