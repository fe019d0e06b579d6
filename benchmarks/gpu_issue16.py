"""Training and inference steps/s of the issue-16 networks (SizerNet, LIMP, Mask2CAD, DRV) on one GPU, on JAX.

    python3 benchmarks/gpu_issue16.py [--models ...] [--precisions float32,bfloat16] [--out PATH]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_issue16.py --smoke   # tiny variants, CPU

The step and the timing are benchmarks/gpu_issue15.py's (random weights, the model's example inputs or
standard-normal arrays of its input specs, surrogate loss, torch-style Adam, donated buffers), at each
recipe's per-GPU batch: SizerNet 36 (input size, output size) pairs (4 subjects, train_sizer.py); LIMP 16
FAUST-2500 shapes (the authors' batch; the step here is the network only, without the heat-method
geodesics of the metric losses); DRV 4,096 rays (64 x 64; drv_decoder128_flash); Mask2CAD's DLA-34 at
511 px, 6 images (the 8 x 6 YAML), whose example input is images only: its "training" row differentiates
the detection + retrieval path (the network's cost, not the RoI-sampled training graph), so read its
inference row.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks import gpu_issue15  # noqa: E402

CASES = {  # name -> (package, registered variant, smoke variant, batch)
    "sizernet_g5_hires": ("research.three_d.sizer", "sizer_sizernet_g5_hires", "sizer_sizernet_tiny", 36),
    "limp_faust2500": ("research.three_d.limp", "limp_faust2500", "limp_tiny", 16),
    "drv_decoder128": ("research.three_d.drv", "drv_decoder128", "drv_tiny", 64),
    "mask2cad_dla34": ("research.three_d.mask2cad", "mask2cad_dla34", "mask2cad_tiny", 6),
}

if __name__ == "__main__":
    sys.exit(gpu_issue15.main(cases=CASES, out_name="gpu_issue16.json", doc=__doc__))
