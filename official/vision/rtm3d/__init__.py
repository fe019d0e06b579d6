"""RTM3D / KM3D monocular 3D detection (Li et al., ECCV 2020); see README.md."""
