"""The rendered-primitive scenes written as a Pix3D release read back through official/data/pix3d.py."""

import numpy as np
import trimesh

from official.data import pix3d
from research.three_d.mask2cad import synthetic


def test_write_pix3d_round_trips_through_the_reader(tmp_path):
    json_path = synthetic.write_pix3d(str(tmp_path), 4, seed=3)
    scenes = synthetic.make_scenes(4, seed=3)
    rec = pix3d.load_pix3d(json_path)
    assert len(rec) == 4 and not any(rec.skipped.values())
    np.testing.assert_allclose(rec.intrinsics, np.broadcast_to(scenes["K"], (4, 3, 3)), atol=1e-9)
    np.testing.assert_allclose(rec.rotation, scenes["rotation"], atol=1e-12)
    np.testing.assert_allclose(rec.translation, scenes["translation"], atol=1e-12)
    np.testing.assert_allclose(rec.quaternion, scenes["quaternion"], atol=1e-9)
    assert [pix3d.CATEGORIES[c] for c in rec.category] == [synthetic.CATEGORIES[c] for c in scenes["category"]]
    ds = list(pix3d.pix3d_dataset(rec).as_numpy_iterator())
    np.testing.assert_array_equal(np.stack([d["image"] for d in ds]), scenes["image"])
    np.testing.assert_array_equal(np.stack([d["mask"] for d in ds]), scenes["mask"])
    mesh = trimesh.load(str(tmp_path / rec.model[0]), process=False)
    model = synthetic.cad_models()[int(scenes["model"][0])]
    np.testing.assert_allclose(np.asarray(mesh.vertices), model["vertices"], atol=1e-6)
