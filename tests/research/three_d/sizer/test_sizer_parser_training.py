"""ParserNet's first training stage on the fixture's ParserNet .npz: identity pretraining (L1 towards the
one-hot weights of each garment vertex's own template vertex) parses the clothed body's garment."""

import keras
import numpy as np

from official.data import sizer_npz
from research.three_d.sizer import losses, synthetic
from research.three_d.sizer.model import ParserNet

K = 8


def test_identity_pretraining_parses_the_garment(tmp_path):
    files = synthetic.write_sizer_files(str(tmp_path), num_subjects=3, seed=0, num_neighbours=K)
    data = sizer_npz.load_parser_npz(files["parser"])
    neighbours = np.load(f"{files['meta_stem']}_{K}_gar_order.npy")
    vi = np.load(files["meta_stem"] + "_id.npy")
    targets = losses.identity_targets(neighbours, vi)
    keras.utils.set_random_seed(0)
    model = ParserNet(num_input_vertices=data["reg"].shape[1], num_output_vertices=len(vi), num_neighbours=K)
    model.set_neighbours(neighbours)

    def error_mm():
        parsed = np.asarray(model(data["reg"], training=False)["vertices"])
        return float(np.linalg.norm(parsed - data["UpperClothes"], axis=-1).mean() * 1000)

    before = error_mm()
    model.compile(optimizer=keras.optimizers.Adam(3e-2),
                  loss={"weights": lambda y_true, y_pred: losses.identity_pretrain_loss(y_pred, targets),
                        "vertices": None})
    model.fit(data["reg"], {"weights": np.zeros((3, len(vi), K), np.float32)}, batch_size=3, epochs=15, verbose=0)
    after = error_mm()
    print(f"ParserNet identity pretraining: {before:.2f} -> {after:.3f} mm")
    w = np.asarray(model(data["reg"], training=False)["weights"])
    assert before > 10.0, before  # a random softmax averages 8 candidates up to a few cm apart
    assert after < 2.0, (before, after)
    assert (w.argmax(-1) == targets.argmax(-1)[None]).mean() > 0.99
