"""TcgmNet + losses.tcgm_loss against the authors' `Logistic` nets and `mig_loss_function` (spec card tcgm.md
checks 1 and 5 on the authors' own code; METHOD_CONTRACT item 8's parity, though no weights were released).

    python benchmarks/tcgm_torch_parity.py --reference /tmp/tcgm_ref/20news_dataset \\
        --torch_python /tmp/tcgm_torchenv/bin/python [--out benchmarks/results/tcgm_torch_parity.json]

The reference is Newbeeer/Semi-supervised-Multi-Modalities-Learning's 20news_dataset/models/model.py and
utils/utils.py, unmodified copies kept outside this repository:
    git --git-dir=<mirror> show HEAD:20news_dataset/models/model.py > /tmp/tcgm_ref/20news_dataset/models/model.py
    git --git-dir=<mirror> show HEAD:20news_dataset/utils/utils.py > /tmp/tcgm_ref/20news_dataset/utils/utils.py
torch runs in its own venv (`python3.11 -m venv /tmp/tcgm_torchenv && /tmp/tcgm_torchenv/bin/pip install torch
numpy`): this script re-runs itself there with --dump. model.py reads `args` from experiment/main.py, which
downloads 20 Newsgroups on import; a stand-in module gives it args (split 4000, modalities 3, device cpu).
The three Net[i] (seeded torch init, BN affines and running statistics perturbed) run on random TF-IDF-like
inputs (batch 16) in eval and in train mode (batch statistics); mig_loss_function runs on every view pair
with torch.rand patched to 0 (the card's "noise term set to 0"). Here the state dict goes through
research/multimodal/tcgm/convert.py into tcgm_mlp512 and the same quantities are compared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAIRS = ((1, 2), (1, 3), (2, 3))


def dump_reference(reference: str, out: str) -> None:
    """Runs in the torch venv: the authors' modules on seeded inputs -> out.npz."""
    import torch

    stand_in = types.ModuleType("experiment.main")
    stand_in.args = argparse.Namespace(split=4000, modalities=3, device="cpu")
    sys.modules["experiment"] = types.ModuleType("experiment")
    sys.modules["experiment.main"] = stand_in
    sys.path.insert(0, reference)
    torch.manual_seed(0)
    from models import model as ref_model
    from utils import utils as ref_utils

    rng = np.random.default_rng(0)
    with torch.no_grad():
        for net in ref_model.Net.values():
            for name, p in net.named_parameters():
                if name.startswith("bn"):
                    p.add_(torch.from_numpy(rng.normal(0, 0.2, p.shape).astype(np.float32)))
            for bn in (net.bn1, net.bn2):
                bn.running_mean.copy_(torch.from_numpy(rng.normal(0, 0.05, bn.running_mean.shape).astype(np.float32)))
                bn.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, bn.running_var.shape).astype(np.float32)))
    x = [(rng.uniform(0, 1, (16, 4000)) * (rng.uniform(size=(16, 4000)) < 0.02)).astype(np.float32) for _ in range(3)]
    result = {f"x{i}": x[i - 1] for i in (1, 2, 3)}
    for i, net in ref_model.Net.items():
        for k, v in net.state_dict().items():
            result[f"state/{i}.{k}"] = v.numpy().copy()  # train mode updates the running stats in place
    torch.rand = lambda *shape, **kw: torch.zeros(*shape)  # the loss's noise term off
    p = torch.full((4,), 0.25)
    for mode in ("eval", "train"):
        outs = {}
        for i, net in ref_model.Net.items():
            getattr(net, mode)()
            with torch.no_grad():
                outs[i] = net(torch.from_numpy(x[i - 1]))
            result[f"{mode}/log_probs{i}"] = outs[i].numpy()
        for i, j in PAIRS:
            loss = ref_utils.mig_loss_function(torch.exp(outs[i]), torch.exp(outs[j]), p, 16, "cpu")
            result[f"{mode}/mig{i}{j}"] = np.array(float(loss))
    np.savez(out, **result)


def compare(ref: dict) -> dict:
    sys.path.insert(0, REPO)
    from official.core import registry
    from research.multimodal.tcgm import convert, losses

    state = {k[len("state/"):]: ref[k] for k in ref if k.startswith("state/")}
    model = registry.create_model("tcgm_mlp512", **convert.infer_model_kwargs(state))
    convert.load_state_dict(model, state)
    x = {f"view_{i - 1}": ref[f"x{i}"] for i in (1, 2, 3)}
    prior = np.full(4, 0.25, np.float32)
    report = {"values_converted": int(sum(v.size for v in state.values())), "batch": 16}
    for mode in ("eval", "train"):
        log_probs = np.asarray(model(x, training=mode == "train")["log_probs"])
        want = np.stack([ref[f"{mode}/log_probs{i}"] for i in (1, 2, 3)], 1)
        report[f"{mode}_log_probs_max_abs_diff"] = float(np.abs(log_probs - want).max())
        report[f"{mode}_log_probs_range"] = float(np.ptp(want))
        diffs = []
        for i, j in PAIRS:
            pair = np.stack([log_probs[:, i - 1], log_probs[:, j - 1]], 1)
            diffs.append(abs(float(losses.tcgm_loss(pair, prior, "pairwise")) - float(ref[f"{mode}/mig{i}{j}"])))
        report[f"{mode}_mig_loss_max_abs_diff"] = max(diffs)
        report[f"{mode}_mig_loss_values"] = [float(ref[f"{mode}/mig{i}{j}"]) for i, j in PAIRS]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="The authors' 20news_dataset folder (models/, utils/).")
    parser.add_argument("--torch_python", default=sys.executable, help="Python of a venv with torch and numpy.")
    parser.add_argument("--dump", default="", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "tcgm_torch_parity.json"))
    args = parser.parse_args()
    if args.dump:
        dump_reference(args.reference, args.dump)
        return
    for part in ("models/model.py", "utils/utils.py"):
        if not os.path.isfile(os.path.join(args.reference, part)):
            raise SystemExit(f"--reference={args.reference}: no {part} (see this script's docstring)")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        npz = os.path.join(tmp, "reference.npz")
        subprocess.run([args.torch_python, os.path.abspath(__file__), "--reference", args.reference, "--dump", npz],
                       check=True)
        with np.load(npz) as f:
            ref = {k: f[k] for k in f.files}
    sys.path.insert(0, REPO)
    from benchmarks.common import write_json_atomically

    report = compare(ref)
    report["command"] = ("python benchmarks/tcgm_torch_parity.py --reference /tmp/tcgm_ref/20news_dataset "
                         "--torch_python /tmp/tcgm_torchenv/bin/python")
    write_json_atomically(report, args.out)
    print(report)


if __name__ == "__main__":
    main()
