"""MemDpc / MemDpcClassifier converted from the authors' MemDPC_BD and LC (random weights) give the authors' outputs
(METHOD_CONTRACT item 8).

    python benchmarks/memdpc_torch_parity.py --reference /tmp/memdpc_ref [--out benchmarks/results/memdpc_torch_parity.json]

The reference is an unmodified copy of TengdaHan/MemDPC's backbone/, memdpc/model.py, eval/model_lc.py and utils/
kept outside this repository:
    git --git-dir=<mirror>/repo archive HEAD backbone memdpc/model.py eval/model_lc.py utils | tar -x -C /tmp/memdpc_ref
Run-time shims, not edits: convrnn.ConvGRUCell makes its zero state with `.cuda()`, so Tensor.cuda is the identity
on this CPU machine; utils.calc_topk_accuracy's `.view` fails on current torch, so a `.reshape` twin replaces it; matplotlib / tqdm / torchvision
(imported by utils/utils.py, unused here) are stubbed when missing.
MemDPC_BD(sample_size=64, network resnet18, mem 1024) and LC(resnet18, 101 classes) are built with the authors'
initialisation (seeded), every tensor perturbed by N(0, 0.02) and BatchNorm statistics randomised; state dicts go
through tools.convert_checkpoint (memdpc_r2d3d18 / memdpc_r2d3d18_lc at img_dim 64); both run in eval mode on the
same random clips (batch 2, 8 x 5 x 64 x 64 for MemDPC, 5 x 5 x 64 x 64 for LC).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.common import write_json_atomically  # noqa: E402


def _import_reference(ref: str):
    for name in ("matplotlib", "matplotlib.pyplot", "tqdm", "torchvision"):
        try:
            __import__(name)
        except ImportError:
            stub = types.ModuleType(name)
            stub.tqdm = lambda x, *a, **k: x
            stub.transforms = types.ModuleType("transforms")
            sys.modules[name] = stub
    sys.path.insert(0, ref)
    sys.path.insert(0, os.path.join(ref, "eval"))
    import torch

    torch.Tensor.cuda = lambda self, *a, **k: self  # convrnn's zero state; CPU only here
    import model_lc  # eval/model_lc.py
    from memdpc import model as memdpc_model

    def topk(output, target, topk=(1,)):  # utils.calc_topk_accuracy with .reshape: its .view fails on torch >= 1.13
        _, pred = output.topk(max(topk), 1, True, True)
        correct = pred.t().eq(target.view(1, -1).expand_as(pred.t()))
        return [correct[:k].reshape(-1).float().sum(0) / target.size(0) for k in topk]

    memdpc_model.calc_topk_accuracy = topk
    return memdpc_model, model_lc


def _perturb(net, torch):
    torch.manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm3d, torch.nn.BatchNorm1d)):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def _convert(net, model_name, torch, tmp):
    import keras

    from tools import convert_checkpoint

    src = os.path.join(tmp, f"{model_name}.pth.tar")
    torch.save({"state_dict": {"module." + k: v for k, v in net.state_dict().items()}}, src)
    convert_checkpoint.convert("pytorch", model_name, src, os.path.join(tmp, model_name), model_args="img_dim=64")
    return keras.models.load_model(os.path.join(tmp, model_name, "model.keras"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="Folder with the authors' backbone/, memdpc/, eval/, utils/.")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "memdpc_torch_parity.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.reference, "memdpc", "model.py")):
        raise SystemExit(f"--reference={args.reference}: no memdpc/model.py there (see this script's docstring)")
    memdpc_model, model_lc = _import_reference(args.reference)
    import torch

    import research.video.memdpc  # noqa: F401  (registration)

    torch.manual_seed(0)
    net = _perturb(memdpc_model.MemDPC_BD(sample_size=64, network="resnet18", mem_size=1024), torch)
    lc = _perturb(model_lc.LC(sample_size=64, num_seq=5, seq_len=5, network="resnet18", num_class=101), torch)
    rng = np.random.default_rng(0)
    clip = rng.normal(size=(2, 8, 5, 64, 64, 3)).astype("float32")
    clip_lc = rng.normal(size=(2, 5, 5, 64, 64, 3)).astype("float32")
    with torch.no_grad():
        block = torch.from_numpy(clip).permute(0, 1, 5, 2, 3, 4).contiguous()  # (B, N, C, SL, H, W)
        loss, losses, acc, context = net(block)
        feat = net.backbone(block.view(16, 3, 5, 64, 64)).mean(2).view(2, 8, 256, 2, 2)
        logits, _ = lc(torch.from_numpy(clip_lc).permute(0, 1, 5, 2, 3, 4).contiguous())
    with tempfile.TemporaryDirectory() as tmp:
        model = _convert(net, "memdpc_r2d3d18", torch, tmp)
        model_c = _convert(lc, "memdpc_r2d3d18_lc", torch, tmp)
        out = model({"clip": clip}, training=False)
        _, terms = model.pretext_loss(out)
        logits_k = np.asarray(model_c({"clip": clip_lc}, training=False))
    result = {
        "reference": "TengdaHan/MemDPC memdpc/model.py MemDPC_BD, eval/model_lc.py LC (unmodified copies)",
        "command": "python benchmarks/memdpc_torch_parity.py --reference /tmp/memdpc_ref",
        "features_max_abs_diff": float(np.abs(np.asarray(out["features"]) - feat.permute(0, 1, 3, 4, 2).numpy()).max()),
        "features_max_abs": float(feat.abs().max()),
        "context_max_abs_diff": float(np.abs(np.asarray(out["context"]) - context[:, 0].permute(0, 2, 3, 1).numpy()).max()),
        "loss_forward": [float(losses[0]), float(terms["loss_forward"])],
        "loss_backward": [float(losses[1]), float(terms["loss_backward"])],
        "top1_forward_fraction": [float(acc[0][0, 0]), float(terms["top1_forward"])],
        "lc_logits_max_abs_diff": float(np.abs(logits_k - logits[:, 0].numpy()).max()),
        "lc_logits_max_abs": float(logits.abs().max()),
    }
    result["passed"] = bool(result["features_max_abs_diff"] < 1e-3 and result["context_max_abs_diff"] < 1e-4
                            and abs(result["loss_forward"][0] - result["loss_forward"][1]) < 1e-3
                            and abs(result["loss_backward"][0] - result["loss_backward"][1]) < 1e-3
                            and result["lc_logits_max_abs_diff"] < 1e-3)
    write_json_atomically(result, args.out)
    print(result)


if __name__ == "__main__":
    main()
