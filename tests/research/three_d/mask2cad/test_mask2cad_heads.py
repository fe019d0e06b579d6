"""Spec card checks 4 and 6: head output shapes and parameters, retrieval on a toy table, rotation decoding
against scipy, and the centre / back-projection round trip."""

import numpy as np
from scipy.spatial.transform import Rotation

from research.three_d.mask2cad import heads, retrieval, rotation_bins


def test_check6_output_shapes_and_parameter_count():
    model = heads.Mask2CADHeads(num_classes=9)
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(3, 14, 14, 256)).astype(np.float32)
    masks = rng.random((3, 14, 14, 1)).astype(np.float32)
    out = model({"roi_features": feats, "mask_probs": masks})
    assert tuple(out["embedding"].shape) == (3, 128)
    assert tuple(out["rotation_logits"].shape) == (3, 9, 16)
    assert tuple(out["rotation_delta"].shape) == (3, 9, 4)
    assert tuple(out["centre_offset"].shape) == (3, 9, 2)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(out["embedding"]), axis=1), 1.0, rtol=1e-5)
    # residual starts near the identity quaternion for every class
    np.testing.assert_allclose(np.asarray(out["rotation_delta"])[..., 0], 1.0, atol=0.05)
    # card layer list, Pix3D's 9 classes: embed 3 x (9*256*256 + 512) + (9*256*128 + 256),
    # pose 4 x (9*256*256 + 512), linears 257 * 9 * (16 + 4 + 2)
    expected = 3 * (589824 + 512) + (294912 + 256) + 4 * (589824 + 512) + 257 * 9 * 22
    assert expected == heads.expected_parameter_count(9) == 4_478_406
    assert model.trainable_parameter_count == expected
    # the mask weights the features: a zero mask gives an input-independent output
    zero = np.zeros_like(masks)
    a = model({"roi_features": feats, "mask_probs": zero})["embedding"]
    other = rng.normal(size=feats.shape).astype(np.float32)  # (not a multiple: the heads are homogeneous)
    b = model({"roi_features": other, "mask_probs": zero})["embedding"]
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_retrieval_toy_table_uses_cosine_and_category():
    # 4 CAD models (2 per category), 2 views each; view embeddings of very different norms
    rng = np.random.default_rng(1)
    base = rng.normal(size=(4, 8))
    views = np.concatenate([base + 0.05 * rng.normal(size=(4, 8)) for _ in range(2)])
    views *= np.array([1.0, 40.0, 0.1, 7.0] * 2)[:, None]  # norms must not matter (cosine)
    view_models = np.array([0, 1, 2, 3] * 2)
    view_categories = np.array([0, 0, 1, 1] * 2)
    queries = base * 0.3 + 0.02 * rng.normal(size=(4, 8))
    layer = retrieval.CADRetrieval(views, view_categories, view_models)
    out = layer(queries.astype(np.float32), np.array([0, 0, 1, 1]))
    np.testing.assert_array_equal(np.asarray(out["model_id"]), [0, 1, 2, 3])
    # numpy reference of the similarity of the chosen view
    unit = views / np.linalg.norm(views, axis=1, keepdims=True)
    q_unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(out["similarity"]), np.max(q_unit @ unit.T, axis=1), rtol=1e-5)
    # the function on the raw (unnormalised) table gives the same answer: cosine, not dot product
    model, _, sim = retrieval.retrieve(queries, np.array([0, 0, 1, 1]), views, view_categories, view_models)
    np.testing.assert_array_equal(np.asarray(model), [0, 1, 2, 3])
    np.testing.assert_allclose(np.asarray(sim), np.max(q_unit @ unit.T, axis=1), rtol=1e-5)
    # a wrong predicted category can only return models of that category
    wrong = layer(queries.astype(np.float32), np.array([1, 1, 0, 0]))
    assert set(np.asarray(wrong["model_id"])[:2]) <= {2, 3} and set(np.asarray(wrong["model_id"])[2:]) <= {0, 1}


def test_decode_rotation_matches_numpy_and_scipy():
    q_train = Rotation.random(300, random_state=5).as_quat(scalar_first=True)
    bins = rotation_bins.fit_rotation_bins(q_train, np.arange(300) % 3, 3)
    q_gt = Rotation.random(12, random_state=6).as_quat(scalar_first=True)
    classes = np.arange(12) % 3
    index, delta = rotation_bins.rotation_targets(q_gt, classes, bins)
    logits = np.full((12, 3, 16), -5.0, np.float32)
    logits[np.arange(12), classes, index] = 5.0
    logits[np.arange(12), (classes + 1) % 3, (index + 1) % 16] = 9.0  # other classes' bins are ignored
    deltas = np.tile(np.array([1.0, 0, 0, 0], np.float32), (12, 3, 1))
    deltas[np.arange(12), classes] = delta * 2.5  # decoding normalises the residual
    q = np.asarray(retrieval.decode_rotation(logits, deltas, classes, bins.astype(np.float32)))
    np.testing.assert_allclose(Rotation.from_quat(q, scalar_first=True).as_matrix(),
                               Rotation.from_quat(q_gt, scalar_first=True).as_matrix(), atol=1e-5)


def test_check4_centre_and_translation_round_trip():
    rng = np.random.default_rng(7)
    r = 10
    k = np.array([[600.0, 0, 320.0], [0, 610.0, 240.0], [0, 0, 1]])
    t = np.stack([rng.uniform(-1, 1, r), rng.uniform(-0.5, 0.5, r), rng.uniform(2, 6, r)], axis=1)
    uvw = t @ k.T
    uv = uvw[:, :2] / uvw[:, 2:]
    centre = uv + rng.normal(scale=15, size=(r, 2))  # boxes not centred on the projected centre
    size = rng.uniform(40, 200, size=(r, 2))
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    offsets = np.asarray(retrieval.encode_centre(uv, boxes))
    np.testing.assert_allclose(offsets, (uv - centre) / size, rtol=1e-6, atol=1e-9)
    uv_back = np.asarray(retrieval.decode_centre(offsets, boxes))
    t_back = np.asarray(retrieval.translation_from_centre(uv_back, t[:, 2], k))
    np.testing.assert_allclose(t_back, t, atol=1e-4)
    t_per_roi = np.asarray(retrieval.translation_from_centre(uv_back, t[:, 2], np.tile(k, (r, 1, 1))))
    np.testing.assert_allclose(t_per_roi, t, atol=1e-4)
