"""TopoGAN's images + diagrams reader on a fixture written in its layout: values, padding, the most
persistent points kept, skipped records counted, clear errors; the generated membranes' loop counts."""

import os

import numpy as np
import pytest
from PIL import Image

from official.data import thin_structures, topology_images
from official.data.imagefolder import DatasetError


def _fixture(root, n=4):
    rng = np.random.default_rng(0)
    images = os.path.join(root, "train", "images")
    os.makedirs(images)
    for i in range(n):
        Image.fromarray(thin_structures.draw("membranes", rng, 32, 0.0)).save(os.path.join(images, f"{i}.png"))
    topology_images.write_diagrams(str(root), "train")
    return images


def test_reader_values_and_padding(tmp_path):
    images = _fixture(tmp_path)
    np.save(tmp_path / "train" / "diagrams" / "0.npy", np.array([[0.0, 0.2], [-1.0, 1.0], [0.1, 0.9]]))
    examples = list(topology_images.topology_dataset(str(tmp_path), "train", image_size=32, max_points=2))
    assert len(examples) == 4
    first = examples[0]
    pixels = np.asarray(Image.open(os.path.join(images, "0.png")), np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(first["image"].numpy()[..., 0], pixels, atol=1e-6)
    np.testing.assert_allclose(first["diagram"].numpy(), [[-1.0, 1.0], [0.1, 0.9]])  # most persistent two
    assert int(first["diagram_count"]) == 2
    written = np.load(tmp_path / "train" / "diagrams" / "1.npy")
    second = examples[1]
    assert int(second["diagram_count"]) == min(len(written), 2)


def test_membrane_diagrams_count_the_cells():
    rng = np.random.default_rng(3)
    image = thin_structures.membranes(rng, 64, gap=False)
    from scipy.ndimage import label

    cells = label(image > 128)[1]  # 4-connected white regions = loops of the 8-connected dark membranes
    assert len(topology_images.diagram_of(image)) == cells
    gapped = thin_structures.membranes(np.random.default_rng(3), 64, gap=True)
    assert len(topology_images.diagram_of(gapped)) == label(gapped > 128)[1] <= cells


def test_skips_and_errors(tmp_path, caplog):
    _fixture(tmp_path)
    os.remove(tmp_path / "train" / "diagrams" / "3.npy")
    (tmp_path / "train" / "images" / "2.png").write_bytes(b"\x89PNG truncated")
    from official.data.image_decode import SkipCounter

    counter = SkipCounter()
    paths, _, _, missing = topology_images.read_examples(str(tmp_path), "train", 8)
    assert missing == 1 and len(paths) == 3
    examples = list(topology_images.topology_dataset(str(tmp_path), "train", 32, 8, counter=counter))
    assert len(examples) == 2 and counter.count == 1
    np.save(tmp_path / "train" / "diagrams" / "0.npy", np.zeros((3, 3)))
    with pytest.raises(DatasetError, match="0.npy: diagram: expected"):
        topology_images.read_examples(str(tmp_path), "train", 8)
    with pytest.raises(DatasetError, match="test.diagrams: diagram folder does not exist"):
        topology_images.read_examples(str(tmp_path), "test", 8)
