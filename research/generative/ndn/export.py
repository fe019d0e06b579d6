"""NDN serving signature for tools.export: constrained layout generation at a fixed element count.

serving_default(categories int32 (B, N), mask float32 (B, N), loc_relations / size_relations int32
(B, N+1, N+1) with 0 = unknown (node 0 = canvas), z_relation float32 (B, latent), z_layout float32
(B, N, latent)) -> {"boxes": (B, N, 4) xywh in [0, 1], zero on padding, "loc_relations",
"size_relations": the completed graph}. N = model.max_elements; the latents are inputs so a served
model is deterministic and callers draw as many samples as they like.
"""

from __future__ import annotations

import tensorflow as tf


def signatures(model) -> dict:
    n, z = int(model.max_elements), int(model.latent_dim)
    spec = [
        tf.TensorSpec((None, n), tf.int32, name="categories"),
        tf.TensorSpec((None, n), tf.float32, name="mask"),
        tf.TensorSpec((None, n + 1, n + 1), tf.int32, name="loc_relations"),
        tf.TensorSpec((None, n + 1, n + 1), tf.int32, name="size_relations"),
        tf.TensorSpec((None, z), tf.float32, name="z_relation"),
        tf.TensorSpec((None, n, z), tf.float32, name="z_layout"),
    ]

    def generate(categories, mask, loc_relations, size_relations, z_relation, z_layout):
        return model({"categories": categories, "mask": mask, "loc_relations": loc_relations,
                      "size_relations": size_relations, "z_relation": z_relation, "z_layout": z_layout},
                     training=False)

    return {"serving_default": (generate, spec)}
