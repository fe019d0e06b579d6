"""Registered ConvONet networks (trainable counts asserted in tests/research/three_d/conv_onet/test_conv_onet_model.py).

- conv_onet_3plane_shapenet  3 planes 64^2, U-Net depth 4 (32 filters): 1,978,209 = encoder 27,232
  + U-Net 1,934,976 + decoder 16,001 (spec card, configs/pointcloud/shapenet_3plane.yaml)
- conv_onet_3plane_rooms     3 planes 128^2, U-Net depth 5: 7,812,705 (configs/pointcloud/room_3plane.yaml)
- conv_onet_grid32_shapenet  one 32^3 grid, 3D U-Net (3 levels, f_maps 32, GroupNorm 'gcr'): 1,068,545
  = 27,232 + 3D U-Net 1,025,312 + 16,001 (counted from our build of unet3d.py's shapes)
- conv_onet_3plane_small     3 planes 32^2, U-Net depth 3 (16 filters): the CPU small run
- conv_onet_tiny / conv_onet_grid_tiny  tests only
"""

from official.core.registry import register_variant
from research.three_d.conv_onet.model import ConvONet

register_variant("conv_onet_3plane_shapenet", ConvONet)
register_variant("conv_onet_3plane_rooms", ConvONet, plane_resolution=128, unet_depth=5)
register_variant("conv_onet_grid32_shapenet", ConvONet, plane_type=("grid",), grid_resolution=32)
register_variant("conv_onet_3plane_small", ConvONet, plane_resolution=32, unet_depth=3, unet_filters=16)
register_variant("conv_onet_tiny", ConvONet, plane_resolution=16, unet_depth=2, unet_filters=8, hidden_dim=16,
                 c_dim=16, decoder_hidden=16)
register_variant("conv_onet_grid_tiny", ConvONet, plane_type=("grid",), grid_resolution=8, unet3d_levels=2,
                 unet3d_f_maps=8, hidden_dim=16, c_dim=16, decoder_hidden=16)
