"""Training and inference steps/s of the issue-19 video networks (AVVP's HAN, AherNet) on one GPU, on JAX.

    python3 benchmarks/gpu_issue19.py [--models ...] [--precisions float32,bfloat16] [--out PATH]
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_issue19.py --smoke   # tiny variants, CPU

The step and the timing are benchmarks/gpu_issue15.py's (random weights, the model's example inputs or
standard-normal arrays of its input specs, surrogate loss, torch-style Adam, donated buffers), at each
paper's per-GPU batch: HAN 16 clips of 10 one-second segments; AherNet 16 windows of untrimmed features.
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
    "avvp_han": ("research.video.avvp", "avvp_han", "avvp_tiny", 16),
    "ahernet_anet": ("research.video.ahernet", "ahernet_anet", "ahernet_tiny", 16),
}

if __name__ == "__main__":
    sys.exit(gpu_issue15.main(cases=CASES, out_name="gpu_issue19.json", doc=__doc__))
