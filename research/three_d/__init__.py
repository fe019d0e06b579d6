"""3D research methods: point clouds, implicit surfaces, 3D generation (issue 14).

The area the issues call `research/3d`; `3d` is not a Python identifier, so the package is `three_d`.
"""
