"""HAN converted from the authors' MMIL_Net (random weights) gives the authors' outputs (METHOD_CONTRACT item 8).

    python benchmarks/avvp_torch_parity.py --reference /tmp/avvp_ref/net_audiovisual.py
        [--model avvp_han] [--out benchmarks/results/avvp_torch_parity.json]

The reference is YapengTian/AVVP-ECCV20 nets/net_audiovisual.py, an unmodified copy kept outside this
repository and loaded by path:
    git --git-dir=<mirror of YapengTian/AVVP-ECCV20> show HEAD:nets/net_audiovisual.py > /tmp/avvp_ref/net_audiovisual.py
MMIL_Net() is built with torch's initialisation (seeded), every tensor is then perturbed by N(0, 0.02) so
biases and LayerNorm affines are not at their defaults, its state dict (all 9,307,723 values, the unused
encoders included) goes through research/video/avvp/convert.py's `load_state_dict`, and both models run in
eval mode on the same random LLP-shaped features (batch 4). The authors' class fixes d = 512, so the
named variant avvp_han is what is compared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.common import load_module, write_json_atomically  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="Path of the authors' net_audiovisual.py (outside the repo).")
    parser.add_argument("--model", default="avvp_han", help="Registered variant to convert into.")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "avvp_torch_parity.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    if not os.path.isfile(args.reference):
        raise SystemExit(f"--reference={args.reference}: file does not exist (see this script's docstring)")
    import torch

    import research.video.avvp  # noqa: F401  (registration)
    from official.core import registry
    from research.video.avvp import convert

    ref = load_module(args.reference, "authors_net_audiovisual")
    torch.manual_seed(0)
    net = ref.MMIL_Net().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    state = net.state_dict()
    total = sum(int(v.numel()) for v in state.values())
    rng = np.random.default_rng(0)
    feats = {"audio": rng.normal(size=(4, 10, 128)), "video_2d": rng.uniform(0, 2, (4, 80, 2048)),
             "video_3d": rng.uniform(0, 2, (4, 10, 512))}
    feats = {k: v.astype(np.float32) for k, v in feats.items()}
    with torch.no_grad():
        want = net(*(torch.from_numpy(feats[k]) for k in ("audio", "video_2d", "video_3d")))
    want = dict(zip(("global_prob", "a_prob", "v_prob", "frame_prob"), (w.numpy() for w in want), strict=True))
    model = registry.create_model(args.model, **convert.infer_model_kwargs(state))
    report = convert.load_state_dict(model, state)
    got = {k: np.asarray(v) for k, v in model(feats, training=False).items()}
    diffs = {k: float(np.max(np.abs(got[k] - want[k]))) for k in want}
    out = {"command": " ".join(["python benchmarks/avvp_torch_parity.py", *sys.argv[1:]]),
           "reference": "YapengTian/AVVP-ECCV20 nets/net_audiovisual.py MMIL_Net (unmodified copy), random weights",
           "model": args.model, "state_dict_values": total, "tensors_assigned": len(report.assigned),
           "tensors_skipped_unused": len(report.skipped), "keras_trainable": model.trainable_parameter_count,
           "max_abs_difference": diffs, "output_ranges": {k: [float(v.min()), float(v.max())] for k, v in want.items()},
           "torch": torch.__version__}
    write_json_atomically(out, args.out)
    print(json.dumps(diffs))


if __name__ == "__main__":
    main()
