"""SIZER's config sections: the authors' SizerNet .npz data (+ body model and garment mesh) and the task (TF-free)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class SizerDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path", "body_model", "garment_mesh")

    source: str = "sizer_npz"  # the code's SizerNet .npz (official/data/sizer_npz.py): pose_upper/betas/pose/trans/size 0..2
    path: str = ""  # the .npz of N subjects x 3 sizes (the code's data_dir, e.g. g5_size.npz)
    body_model: str = ""  # converted SMPL(+G) .npz: v_template, shapedirs, posedirs, J_regressor, weights, vert_indices (research/three_d/sizer/smplg.py)
    garment_mesh: str = ""  # garment template mesh <meta_data>/<class>/<layer>_<res>.obj: its faces give the Laplacian, its normals the S -> XL check
    shuffle_buffer: int = 10_000  # training: pairs in the shuffle buffer (the code shuffles subjects every epoch)


@dataclasses.dataclass
class SizerTaskConfig(TaskConfig):
    name: str = "sizer"  # registered Task class (research/three_d/sizer/task.py)
    num_classes: int = 4  # size labels S, M, L, XL (one-hot width of size_in / size_out)
    laplacian_weight: float = 100.0  # train_sizer.py: loss = chamfer + 100 x uniform Laplacian of the predicted garment
    offset_init_scale: float = 1.0  # the decoder's last kernel x this at a fresh start (1 = PyTorch's init; small run 0.01)


@dataclasses.dataclass
class ParserDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path", "meta_data")

    source: str = "sizer_parser_npz"  # the code's ParserNet .npz (official/data/sizer_npz.py load_parser_npz): reg, <layer>, betas, pose, trans
    path: str = ""  # the .npz of N registered scans (the code's data.data_dir, e.g. parsernet_g5_vc_vn.npz)
    meta_data: str = ""  # the code's data.meta_data folder: <class>/<layer>_<res>.obj, _id.npy, _<K>_gar_order.npy
    garment_class: str = "g5"  # experiment.garment_class (g5 = T-shirt + shorts)
    layer: str = "UpperClothes"  # experiment.garment_layer: UpperClothes | Pants (the code's Body layer is not read)
    resolution: str = "hres"  # experiment.resolution: hres (27,554-vertex SMPL) | lres (6,890)
    shuffle_buffer: int = 10_000  # training: scans in the shuffle buffer (the code shuffles every epoch)


@dataclasses.dataclass
class ParserTaskConfig(TaskConfig):
    name: str = "sizer_parser"  # registered Task class (research/three_d/sizer/parser_task.py)
    num_classes: int = 0  # unused (no classes): kept at 0
    identity_steps: int = -1  # stage switch: identity-L1 pretraining for this many steps, then the full objective; -1 = identity_epochs x steps per epoch
    identity_epochs: int = 16  # train_parser.py: `if ep < 16` -> identity pretraining (used when identity_steps = -1)
    laplacian_weight: float = 100.0  # train_parser.py: chamfer + 100 x uniform Laplacian of the parsed garment + local
    local_weight: float = 1.0  # train_parser.py: + local_regu, unweighted (the config's spr_wgt 0.001 is not used)
