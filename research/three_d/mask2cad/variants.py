"""Registered Mask2CAD networks (network.Mask2CAD = CPN + Mask2CAD heads + CAD-view encoder); trainable
counts asserted in tests/research/three_d/mask2cad/test_mask2cad_network.py.

- mask2cad_dla34     CPN DLA-34 (511 px) on Pix3D's 9 categories; heads as the spec card (mask head
                     4 x conv 256, embedding / pose trunks 256, 128-d embedding, 16 bins); CAD database
                     395 models x 16 views of 64 px (the paper's 16 views; render size GUESS)
- mask2cad_hg104     the same on CPN's Hourglass-104 (its best detector)
- mask2cad_small     the CPU run on rendered primitives (tools.make_pix3d_primitives): CPN DLA tiny at
                     64 px, 2 categories, 4 models x 8 views of 32 px, heads 64 wide
- mask2cad_tiny      tests only (narrower still)
"""

from official.core.registry import register_variant
from research.three_d.mask2cad.network import Mask2CAD

PIX3D_VIEWS = 395 * 16  # Pix3D's 395 CAD models x 16 rendered views each (spec card)

register_variant("mask2cad_dla34", Mask2CAD, detector="cpn_dla34", num_cad_views=PIX3D_VIEWS)
register_variant("mask2cad_hg104", Mask2CAD, detector="cpn_hg104", num_cad_views=PIX3D_VIEWS)
register_variant("mask2cad_small", Mask2CAD, detector="cpn_dla34tiny", num_classes=2, input_size=64,
                 max_detections=8, flip_test=False, mask_width=64, mask_convs=2, head_width=64, num_cad_views=32,
                 view_size=32, view_widths=(16, 32, 64))
register_variant("mask2cad_tiny", Mask2CAD, detector="cpn_dla34tiny", num_classes=2, input_size=64,
                 max_detections=4, flip_test=False, mask_width=8, mask_convs=1, head_width=8, embed_dim=8,
                 num_bins=4, num_cad_views=8, view_size=16, view_widths=(8,))
