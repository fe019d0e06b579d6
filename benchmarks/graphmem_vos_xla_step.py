"""One jit_compile=True training step of graphmem_vos_tiny under TensorFlow (METHOD_CONTRACT item 9), against the
same step run eagerly: the XLA compile (~1-2 min of CPU) does not fit the method's 45 s test budget, so it is
recorded here. Writes benchmarks/results/graphmem_vos_xla_step.json.

    PYTHONPATH=. python benchmarks/graphmem_vos_xla_step.py
"""

from __future__ import annotations

import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from official.core import registry

if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    x = registry.create_model("graphmem_vos_tiny").example_inputs(2, (32, 48))
    y = np.asarray(x["first_mask"])[:, None].repeat(2, 1)
    result = {}
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        model = registry.create_model("graphmem_vos_tiny")
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        start = time.time()
        history = model.fit(tf.data.Dataset.from_tensors((x, y)).repeat(2), epochs=1, verbose=0)
        after = float(model.evaluate(tf.data.Dataset.from_tensors((x, y)), verbose=0))
        result["xla" if jit else "eager_graph"] = {"mean_loss_2_steps": float(history.history["loss"][0]),
                                                   "loss_after": after, "seconds": round(time.time() - start, 1)}
    result["loss_difference"] = abs(result["xla"]["mean_loss_2_steps"] - result["eager_graph"]["mean_loss_2_steps"])
    os.makedirs("benchmarks/results", exist_ok=True)
    with open("benchmarks/results/graphmem_vos_xla_step.json", "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))
