"""Registered PointNet++ classifiers.

Trainable parameters (tests/official/vision/pointnet2/test_pointnet2_model.py):
- pointnet2_msg_modelnet40: the PointMixup card's MSG table, 40 classes, 1,024 points:
  SA1 35,616 + SA2 216,512 + SA3 823,552 + head 667,176 = 1,742,856
- pointnet2_ssg_modelnet40: Pointnet2_PyTorch's SSG table (same head), 40 classes
- pointnet2_tiny: two narrow MSG scales + group-all, 64 points, 6 classes (tests and the small runs on
  tools.make_shapes3d primitives)
"""

from official.core.registry import register_variant
from official.vision.pointnet2.model import MSG_STAGES, SSG_STAGES, PointNet2Classifier, stages_to_spec

TINY_STAGES = (  # (npoint, radii, nsamples, mlps): the MSG shape at two scales and 1/4-1/8 width on 64 points
    (32, (0.2, 0.4), (8, 16), ((16, 16, 32), (16, 16, 32))),
    (8, (0.4, 0.8), (8, 16), ((32, 32, 64), (32, 32, 64))),
    (None, (), (), ((64, 128),)),
)

register_variant("pointnet2_msg_modelnet40", PointNet2Classifier, classes=40, num_points=1024,
                 stages=stages_to_spec(MSG_STAGES))
register_variant("pointnet2_ssg_modelnet40", PointNet2Classifier, classes=40, num_points=1024,
                 stages=stages_to_spec(SSG_STAGES))
register_variant("pointnet2_tiny", PointNet2Classifier, classes=6, num_points=64, stages=TINY_STAGES,
                 head_widths=(64, 32))
