"""Converted S2DNet = the authors' module (germain-hug/S2DNet-Minimal) with random weights (METHOD_CONTRACT item 8).

    python benchmarks/s2dnet_torch_parity.py --reference /tmp/s2dnet_ref/S2DNet-Minimal [--torch_python PY]
        [--vgg_module_only]

The reference folder (s2dnet.py, adap_layers.py, vgg16.py; needs torch + torchvision) stays outside the repo.
--vgg_module_only: the package mirror's torchvision wheels (0.28.0, 0.29.x) are CUDA builds whose `_C.so` needs
libc10_cuda.so, so `import torchvision` fails next to torch 2.13+cpu ("operator torchvision::nms does not
exist"); this flag imports torchvision's own `models/vgg.py` through stub parent packages (no
torchvision/__init__, no _C), so the authors' `models.vgg16(pretrained=False)` still builds torchvision's VGG-16.
Step 1 (torch python): builds S2DNet(device=cpu), perturbs every tensor (BN statistics included), saves
{"hypercolumn_layers", "state_dict"} and its outputs on a random 64x96 image. Step 2 (zoo python): converts the
file with tools.convert_checkpoint's dispatch and compares. Writes benchmarks/results/s2dnet_torch_parity.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

VGG_MODULE_ONLY = r"""
import importlib, importlib.util, types
root = importlib.util.find_spec("torchvision").submodule_search_locations[0]
tv = types.ModuleType("torchvision"); tv.__path__ = [root]; sys.modules["torchvision"] = tv
models = types.ModuleType("torchvision.models"); models.__path__ = [root + "/models"]
sys.modules["torchvision.models"] = tv.models = models
models.vgg16 = importlib.import_module("torchvision.models.vgg").vgg16
"""

TORCH_STEP = r"""
import sys, numpy as np, torch
if sys.argv[3] == "1":
    exec(sys.argv[4])
sys.path.insert(0, sys.argv[1])
from s2dnet import S2DNet
torch.manual_seed(0)
net = S2DNet(torch.device("cpu"))
with torch.no_grad():
    for k, t in net.state_dict().items():
        if k.endswith("running_var"): t.uniform_(0.5, 1.5)
        elif t.is_floating_point(): t.add_(0.02 * torch.randn_like(t))
net.eval()
image = np.random.default_rng(0).uniform(0, 1, (1, 3, 64, 96)).astype(np.float32)
x = (torch.from_numpy(image) - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[:, None, None]
with torch.no_grad():
    out = [o.numpy() for o in net(x)]
torch.save({"hypercolumn_layers": net._hypercolumn_layers, "state_dict": net.state_dict()}, sys.argv[2] + "/s2dnet_weights.pth")
np.savez(sys.argv[2] + "/ref.npz", image=image, **{f"f{i}": o for i, o in enumerate(out)})
tv_version = open(sys.modules["torchvision.models.vgg"].__file__.rsplit("/models/", 1)[0] + "/version.py").read()
tv_version = [l.split("=")[1].strip().strip("'\"") for l in tv_version.splitlines() if l.startswith("__version__")][0]
open(sys.argv[2] + "/versions.txt", "w").write(f"torch {torch.__version__}, torchvision {tv_version}, "
    f"{sum(p.numel() for p in net.parameters())} parameters")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="folder of S2DNet-Minimal's s2dnet.py")
    parser.add_argument("--torch_python", default=sys.executable, help="a python with torch + torchvision")
    parser.add_argument("--vgg_module_only", action="store_true", help="import only torchvision/models/vgg.py")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="s2dnet_parity_")
    subprocess.run([args.torch_python, "-c", TORCH_STEP, args.reference, tmp, str(int(args.vgg_module_only)),
                    VGG_MODULE_ONLY], check=True)
    import numpy as np

    import research.geometry.s2dnet  # noqa: F401
    from tools.convert_checkpoint import convert

    result = convert("pytorch", "s2dnet_vgg16", os.path.join(tmp, "s2dnet_weights.pth"), os.path.join(tmp, "out"))
    import keras

    model = keras.saving.load_model(result["outputs"]["model.keras"])
    ref = np.load(os.path.join(tmp, "ref.npz"))
    with open(os.path.join(tmp, "versions.txt")) as f:
        versions = f.read()
    got = model(ref["image"].transpose(0, 2, 3, 1), training=False)
    diffs = {f"features_{i + 1}": float(np.abs(np.asarray(got[f"features_{i + 1}"]) - ref[f"f{i}"].transpose(0, 2, 3, 1)).max())
             for i in range(3)}
    scale = {f"features_{i + 1}": float(np.abs(ref[f"f{i}"]).max()) for i in range(3)}
    report = {"tensors": result["tensors"], "skipped": result["skipped"], "max_abs_diff": diffs, "max_abs_value": scale,
              "input": [1, 64, 96, 3], "torch": versions, "vgg_module_only": args.vgg_module_only,
              "command": " ".join(["python benchmarks/s2dnet_torch_parity.py", *sys.argv[1:]])}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "s2dnet_torch_parity.json")
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
