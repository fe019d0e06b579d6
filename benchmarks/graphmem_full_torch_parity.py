"""The whole GraphMemVOS network converted from the authors' `graph_memory` (random weights) gives the authors'
outputs (METHOD_CONTRACT item 8): encoders, memorize keys / values and the soft-aggregated logits of `segment`.

    python benchmarks/graphmem_full_torch_parity.py --reference /tmp/gmconvert_ref \
        [--torchvision /tmp/gmconvert_torchenv/lib/python3.11/site-packages/torchvision] \
        [--out benchmarks/results/graphmem_full_torch_parity.json]

`--reference` holds unmodified copies of carrierlxk/GraphMemVOS (commit a3487bcf) files, outside the repo:
    mkdir -p /tmp/gmconvert_ref/models/units && for f in graph_memory helpers units/ConvGRU2; do
      git --git-dir=<mirror> show HEAD:models/$f.py > /tmp/gmconvert_ref/models/$f.py; done
graph_memory.py builds its trunks with `torchvision.models.resnet50(pretrained=True)`. torchvision is not in the
repo's venv, and the only wheel the package mirror has (0.29.1, installed into a separate venv with
`pip install --no-deps torchvision pillow`) fails to import beside torch 2.13 ("operator torchvision::nms does not
exist": its package `__init__` registers C++ operators). So when `import torchvision` fails, `--torchvision` names
that installed package folder and only its pure-Python `models` subpackage is imported, without the package's
`__init__`: no C++ operator is loaded, and torchvision's own ResNet-50 code builds the trunks (not a stand-in). Either way
`resnet50` is called with `weights=None`: pretrained=True would download ImageNet weights, and every tensor is
replaced by random values anyway.

Weights: every conv / linear weight N(0, 1 / fan_in), biases N(0, 0.05), BN gamma U(0.5, 1.5) and beta N(0, 0.1);
the BN running statistics are then measured (cumulative average, train mode) on calibration frames so that
activations keep a realistic scale. The state dict goes through `tools.convert_checkpoint` (saved as the release
is, {"net": state_dict, "epoch": 0}) into graphmem_vos_resnet50; both models run in eval mode on the same frames:
each case memorises T frames (frame 0 with one-hot masks, later ones with soft probabilities) and segments a query.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import write_json_atomically  # noqa: E402

TOL = 1e-3  # float32 through two ResNet-50 trunks, 5 GRU steps and the decoder


def _torchvision_models(folder: str | None):
    """torchvision.models, or (import failing) the pure-Python `models` subpackage of the package at `folder`."""
    try:
        import torchvision.models as models

        return models, "torchvision " + sys.modules["torchvision"].__version__
    except Exception as err:  # ImportError, or RuntimeError from operator registration
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        if not folder:
            raise SystemExit(f"import torchvision failed ({err}); pass --torchvision <site-packages>/torchvision") from None
        if not os.path.isfile(os.path.join(folder, "models", "resnet.py")):
            raise SystemExit(f"--torchvision={folder}: models/resnet.py not found") from None
        package = types.ModuleType("torchvision")
        package.__path__ = [folder]
        sys.modules["torchvision"] = package
        models = importlib.import_module("torchvision.models")
        version = open(os.path.join(folder, "version.py")).read().split("__version__ = ")[1].split("\n")[0].strip("'\"")
        return models, f"torchvision {version} models/ only (package __init__ skipped: {type(err).__name__}: {err})"


def load_reference(root: str, torchvision_folder: str | None):
    models_dir = os.path.join(root, "models")
    if not os.path.isfile(os.path.join(models_dir, "graph_memory.py")):
        raise SystemExit(f"--reference={root}: models/graph_memory.py not found (see this script's docstring)")
    models, provenance = _torchvision_models(torchvision_folder)
    shim = types.ModuleType("torchvision_models_shim")
    shim.resnet50 = lambda pretrained=False, **kw: models.resnet50(weights=None)
    sys.modules["torchvision"].models = shim  # `from torchvision import models` in graph_memory.py / helpers.py
    sys.path.insert(0, models_dir)  # `import units.ConvGRU2` (namespace package)
    package = types.ModuleType("gmvos_ref")
    package.__path__ = [models_dir]
    sys.modules["gmvos_ref"] = package
    return importlib.import_module("gmvos_ref.graph_memory"), provenance


def randomise(ref, torch, calibration) -> None:
    """Random weights, then BN running statistics measured on `calibration` (a list of callables)."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in ref.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / fan_in ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.05 * torch.randn(m.bias.shape, generator=gen))
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the calibration calls
        ref.train()
        for call in calibration:
            call()
        ref.eval()


def _nchw(x, torch):
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))


def _diff(got, want) -> dict:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    return {"max_abs_difference": float(np.max(np.abs(got - want))), "reference_abs_max": float(np.abs(want).max()),
            "shape": list(got.shape)}


def run_case(ref, model, torch, rng, h: int, w: int, objects: int, nodes: int) -> dict:
    frames = rng.uniform(0, 1, (nodes + 1, h, w, 3)).astype(np.float32)
    probs = []
    ids = rng.integers(0, objects + 1, (h // 8, w // 8)).repeat(8, 0).repeat(8, 1)
    probs.append(np.eye(objects + 1, dtype=np.float32)[ids])  # frame 0: one-hot blocks
    for _ in range(1, nodes):  # later memory frames: soft predictions
        logits = rng.normal(0, 2, (h // 4, w // 4, objects + 1)).repeat(4, 0).repeat(4, 1)
        e = np.exp(logits - logits.max(-1, keepdims=True))
        probs.append((e / e.sum(-1, keepdims=True)).astype(np.float32))
    num = torch.tensor([objects])
    out = {"frame_hw": [h, w], "objects": objects, "memory_nodes": nodes}
    start = time.perf_counter()
    with torch.no_grad():
        r4, r3, r2, _, _ = ref.Encoder_Q(_nchw(frames[nodes:], torch))
        mem = [ref.memorize(_nchw(frames[t:t + 1], torch), _nchw(probs[t][None], torch), num) for t in range(nodes)]
        keys, values = torch.cat([k for k, _ in mem], 3), torch.cat([v for _, v in mem], 3)
        logit = ref.segment(_nchw(frames[nodes:], torch), keys, values, num)
    out["reference_seconds"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    feats = model.encoder_q(frames[nodes:], training=False)
    ours = [model.memorize(frames[t:t + 1], probs[t][None]) for t in range(nodes)]
    mk, mv = np.stack([np.asarray(k) for k, _ in ours], 2), np.stack([np.asarray(v) for _, v in ours], 2)
    got = np.asarray(model.step(frames[nodes:], mk, mv, np.ones((1, nodes), bool), np.ones((1, objects), np.float32)))
    out["ours_seconds"] = round(time.perf_counter() - start, 2)
    theirs = lambda x: np.moveaxis(x.numpy(), 1, -1)  # noqa: E731
    out["encoder_q"] = {n: _diff(feats[n], theirs(t)) for n, t in (("r4", r4), ("r3", r3), ("r2", r2))}
    # torch keys (1, K, C, T, h, w), slot 0 padding -> ours (1, O, T, h, w, C)
    as_ours = lambda x: np.transpose(x.numpy()[:, 1:objects + 1], (0, 1, 3, 4, 5, 2))  # noqa: E731
    out["memorize_keys"], out["memorize_values"] = _diff(mk, as_ours(keys)), _diff(mv, as_ours(values))
    want = theirs(logit)
    out["segment_logits"] = _diff(got, want)
    soft = lambda x: np.exp(x - x.max(-1, keepdims=True)) / np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)  # noqa: E731
    out["segment_probabilities"] = _diff(soft(got), soft(want))
    out["label_agreement"] = float(np.mean(got.argmax(-1) == want.argmax(-1)))
    out["max_abs_difference"] = max(v["max_abs_difference"] for k, v in out.items() if isinstance(v, dict) and "shape" in v)
    out["max_abs_difference"] = max(out["max_abs_difference"], *(v["max_abs_difference"] for v in out["encoder_q"].values()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="Folder with the authors' models/ files (outside the repo).")
    parser.add_argument("--torchvision", default=None, help="torchvision package folder, used if `import torchvision` fails.")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "graphmem_full_torch_parity.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    ref_module, torchvision = load_reference(args.reference, args.torchvision)
    import torch

    from official.core.registry import create_model
    from research.video.graphmem_vos import convert  # noqa: F401  (registers the variants)
    from tools import convert_checkpoint

    torch.manual_seed(0)
    ref = ref_module.graph_memory()
    rng = np.random.default_rng(1)
    cal = rng.uniform(0, 1, (4, 3, 96, 128)).astype(np.float32)
    cal_masks = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (2, 96, 128))].transpose(0, 3, 1, 2)

    def calibrate_segment():
        keys, values = ref.memorize(torch.from_numpy(cal[:1]), torch.from_numpy(cal_masks[:1]), torch.tensor([2]))
        ref.segment(torch.from_numpy(cal[1:2]), keys, values, torch.tensor([2]))

    randomise(ref, torch, [lambda: ref.Encoder_Q(torch.from_numpy(cal)),
                           lambda: ref.Encoder_M(torch.from_numpy(cal[:2]), torch.from_numpy(cal_masks[:, 1]),
                                                 torch.from_numpy(cal_masks[:, 2])),
                           calibrate_segment])
    state = ref.state_dict()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "main_runfile_graph_memory.pth.tar")
        torch.save({"net": state, "epoch": 0}, src)
        summary = convert_checkpoint.convert("pytorch", "graphmem_vos_resnet50", src, os.path.join(tmp, "out"))
        with open(os.path.join(tmp, "out", "conversion.json")) as f:
            report = json.load(f)
        model = create_model("graphmem_vos_resnet50")
        model.load_weights(os.path.join(tmp, "out", "model.weights.h5"))
    params = {"reference": sum(p.numel() for p in ref.parameters()),
              "ours_trainable": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
              "reference_state_dict_tensors": len(state), "converted_tensors": summary["tensors"],
              "skipped": len(report["skipped"]),
              "skipped_other_than_num_batches_tracked": [k for k in report["skipped"] if not k.endswith("num_batches_tracked")],
              "unused_by_release_forward": len(report["unused_by_release_forward"])}
    cases = {}
    for name, h, w, objects, nodes in (("2_objects_3_nodes_96x128", 96, 128, 2, 3),
                                       ("1_object_1_node_96x128", 96, 128, 1, 1),
                                       ("3_objects_2_nodes_160x224", 160, 224, 3, 2)):
        cases[name] = run_case(ref, model, torch, np.random.default_rng(len(cases) + 10), h, w, objects, nodes)
        print(name, cases[name]["max_abs_difference"], cases[name]["segment_logits"], flush=True)
    worst = max(c["max_abs_difference"] for c in cases.values())
    out = {"command": " ".join(["python benchmarks/graphmem_full_torch_parity.py", *sys.argv[1:]]),
           "reference": "carrierlxk/GraphMemVOS a3487bcf models/graph_memory.py graph_memory + helpers.py + "
                        f"units/ConvGRU2.py (unmodified copies), torch {torch.__version__}, {torchvision}",
           "parameters": params, "cases": cases, "max_abs_difference": worst, "tolerance": TOL,
           "passed": worst <= TOL and params["reference"] == params["ours_trainable"] == 50_549_250
           and min(c["label_agreement"] for c in cases.values()) == 1.0}
    write_json_atomically(out, args.out)
    print(json.dumps({"params": params["reference"], "max_abs_difference": worst}),
          "passed" if out["passed"] else "FAILED", f"-> {args.out}")
    if not out["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
