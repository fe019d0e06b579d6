"""SizerNet + SMPL+G as one model: (garment in size A, sizes, body beta / pose / trans) -> garment in size B.

This is SIZER's inference path (`train_sizer.py`: the network's output is the SMPL+G offset D of the
target size, skinned with the target scan's pose and translation) and what `export.py` serves. The
body-model arrays are non-trainable weights of the SMPLG layer: load them with `load_body_model`
(a user's converted SMPL .npz or the synthetic template); they travel in checkpoints and SavedModels.
"""

from __future__ import annotations

import keras

from official.core.base_model import ZooSubclassModel
from research.three_d.sizer.model import NUM_SIZES, SizerNet
from research.three_d.sizer.smplg import SMPL_PARENTS, SMPLG

INPUT_KEYS = ("garment", "size_in", "size_out", "betas", "pose", "trans")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SizerPipeline(ZooSubclassModel):
    """{garment (B, V_g, 3), size_in (B, 4), size_out (B, 4), betas (B, 10), pose (B, 72), trans (B, 3)}
    -> {"garment": (B, V_g, 3) posed garment in size_out, "offsets": (B, V_g, 3) SMPL+G offsets D}."""

    def __init__(self, num_vertices: int, num_body_vertices: int, latent_dim: int = 100, num_betas: int = 10,
                 dropout: float = 0.3, parents: tuple[int, ...] = SMPL_PARENTS, num_sizes: int = NUM_SIZES,
                 name: str = "sizer_pipeline", **kwargs):
        super().__init__(name=name, **kwargs)
        self.sizer = SizerNet(num_vertices=num_vertices, latent_dim=latent_dim, num_betas=num_betas,
                              num_sizes=num_sizes, dropout=dropout)
        self.smplg = SMPLG(num_body_vertices, num_vertices, num_betas, parents, name="smplg")
        self.smplg.build()
        self.built = True  # every variable exists now (functional SizerNet, SMPLG's arrays): load_weights works

    def load_body_model(self, arrays, where: str = "arrays") -> None:
        """Body-model arrays (smplg.ARRAY_KEYS): a dict, or the path of a converted .npz."""
        if isinstance(arrays, str):
            import numpy as np

            with np.load(arrays) as data:
                arrays, where = {k: data[k] for k in data.files}, arrays
        self.smplg.assign_arrays(arrays, where)

    def call(self, inputs, training=False):
        offsets = self.sizer({k: inputs[k] for k in INPUT_KEYS[:4]}, training=training)
        posed = self.smplg(inputs["betas"], inputs["pose"], inputs["trans"], offsets, garment_only=True)
        return {"garment": posed["garment"], "offsets": offsets}
