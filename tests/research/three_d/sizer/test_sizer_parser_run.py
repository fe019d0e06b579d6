"""ParserNet through the zoo's tools (METHOD_CONTRACT items 5, 6): tools.make_sizer's ParserNet .npz, tools.train's
run_experiment on `parsernet_tiny_synthetic` shortened (2 scans, 90 steps in loops of 30, identity pretraining for
the first 30), the two stages read back from the per-loop loss terms (MODEL_DIR/summary.csv), and tools.evaluate's
path (the newest checkpoint restored, Task.evaluate) giving the vertex-to-vertex error."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest

from official.core import config as config_lib
from official.core import trainer
from official.core.errors import UserError
from official.core.task import build_task
from research.three_d.sizer import synthetic
from research.three_d.sizer.parser_task import meta_paths
from tools.make_sizer import write_sizer

STEPS, LOOP, SWITCH, LAPLACIAN = 90, 30, 30, 1e-4


def _cfg(root, overrides=""):
    base = (f"trainer.train_steps={STEPS},trainer.steps_per_loop={LOOP},trainer.global_batch_size=2,"
            f"task.identity_steps={SWITCH},task.laplacian_weight={LAPLACIAN}")
    return config_lib.resolve("parsernet_tiny_synthetic", params_override=",".join(filter(None, (base, overrides))),
                              data_dir=str(root))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("parser")
    write_sizer(str(root / "sizer_synthetic"), subjects=2, val_subjects=0, seed=0)
    cfg = _cfg(root)
    task = build_task(cfg)
    keras.utils.set_random_seed(cfg.runtime.seed)
    untrained = task.evaluate(task.build_model(), task.build_inputs(cfg.eval_data, False, 2))
    results = trainer.run_experiment(cfg, str(root / "run"), mode="train_and_eval")
    with open(root / "run" / "summary.csv", encoding="utf-8") as f:
        loops = [{k: float(v) for k, v in row.items() if v != "NA"} for row in csv.DictReader(f)]
    return cfg, root, untrained, results, loops


def test_short_run_parses_the_garment(run):
    _, _, untrained, results, _ = run
    ev = results["eval"]
    print("untrained", untrained, "trained", ev)
    assert results["step"] == STEPS and ev["scans"] == 2
    assert ev["copy_v2v_mm"] < 1e-3  # fixture: the garment is reg's garment vertices
    assert untrained["v2v_mm"] > 10.0, untrained  # a random softmax averages 8 candidates cm apart
    assert ev["v2v_mm"] < 0.5 and ev["v2v_mm"] < 0.05 * untrained["v2v_mm"], ev


def test_identity_pretraining_then_the_full_objective(run):
    """Loop 1 (steps 0-29) trains the identity L1 alone; loops 2-3 Chamfer + w_lap Laplacian + local regulariser."""
    *_, loops = run
    assert len(loops) == STEPS // LOOP
    first, *later = loops
    assert first["stage"] == 1.0 and first["loss"] == pytest.approx(first["identity"], rel=1e-5), first
    for loop in later:
        assert loop["stage"] == 2.0, loop
        full = loop["chamfer"] + LAPLACIAN * loop["laplacian"] + loop["local"]
        assert loop["loss"] == pytest.approx(full, rel=1e-3, abs=1e-9), loop
    assert first["identity"] > 0.01 and later[-1]["local"] < first["local"]  # the regulariser concentrates the weights


def test_identity_steps_default_is_16_epochs(run):
    _, root, *_ = run
    task = build_task(_cfg(root, "task.identity_steps=-1,trainer.global_batch_size=1"))
    assert task.identity_steps() == 16 * 2  # 2 scans at batch 1: 2 steps per epoch


def test_evaluate_path_uses_the_checkpoint_candidate_table(run):
    """tools.evaluate --model_dir: restore + Task.evaluate; the checkpoint's (V, K) table wins over a reordered file."""
    cfg, root, _, results, _ = run
    path = meta_paths(cfg.train_data, 8)["neighbours"]
    original = np.load(path)
    np.save(path, original[:, ::-1])  # the same candidates in another order (a regenerated file)
    try:
        model, task, step = trainer.restore_for_inference(cfg, str(root / "run"))
        metrics = task.evaluate(model, task.build_inputs(cfg.eval_data, False, cfg.trainer.global_batch_size))
    finally:
        np.save(path, original)
    assert step == STEPS
    assert set(metrics) == {"v2v_mm", "copy_v2v_mm", "chamfer_mm2", "scans"}
    np.testing.assert_allclose(metrics["v2v_mm"], results["eval"]["v2v_mm"], atol=1e-5)
    np.testing.assert_array_equal(np.asarray(model.get_layer("gather").neighbours), original)


def test_bad_files_are_one_line_errors_naming_them(run, tmp_path):
    cfg, root, *_ = run
    stem = meta_paths(cfg.train_data, 8)
    with pytest.raises(UserError, match=r"parser_train\.npz: key 'reg' has 578 vertices, model\.num_input_vertices is 600"):
        t = build_task(_cfg(root, "model.num_input_vertices=600"))
        t.scans(t.config.train_data)
    with pytest.raises(UserError, match=r"UpperClothes_lres_6_gar_order\.npy: no such file"):
        build_task(_cfg(root, "model.num_neighbours=6")).build_model()
    bad = np.load(stem["neighbours"])[:, 1:]  # the identity candidate dropped
    np.save(tmp_path / "UpperClothes_lres_7_gar_order.npy", bad)
    for name in ("UpperClothes_lres.obj", "UpperClothes_lres_id.npy"):
        (tmp_path / name).write_bytes(open(stem["mesh"].replace("UpperClothes_lres.obj", name), "rb").read())
    with pytest.raises(UserError, match=r"_7_gar_order\.npy: identity_targets: output vertex 0 has no candidate"):
        build_task(_cfg(root, f"model.num_neighbours=7,train_data.meta_data={tmp_path.parent},"
                              f"train_data.garment_class={tmp_path.name}")).meta()


def test_slid_garment_is_a_convex_combination_of_the_candidates():
    """make_sizer --parser_slide: each garment vertex moves towards its ring successor, one of its K candidates."""
    template = synthetic.make_template(seed=0)
    vi, k = template["vert_indices"], 8
    successors = synthetic.ring_successors(vi)
    candidates = synthetic.neighbour_order(template, k)
    assert all(vi[s] in row for s, row in zip(successors, candidates, strict=True))
    garment = template["v_template"][vi][None]
    slid = synthetic.slide_garment(garment, vi, 0.25)
    np.testing.assert_allclose(slid[0], 0.75 * garment[0] + 0.25 * garment[0, successors], atol=1e-7)
    step = np.linalg.norm(slid[0] - garment[0], axis=-1)
    assert 0.005 < step.mean() < 0.015  # a quarter of a ~4 cm ring edge


def test_recipe_experiments_hold_the_authors_values():
    """parser_experiments: train_parser.py's recipe (Adam 1e-5 constant, batch 4, 20,000 epochs, identity L1 for 16
    epochs, Laplacian x 100, local regulariser x 1) on g5 UpperClothes; the task builds parser_objective's staged net."""
    from research.three_d.sizer import parser_experiments, parser_objective

    for cfg, resolution in ((parser_experiments.parsernet_g5_lowres_sizer(), "lres"),
                            (parser_experiments.parsernet_g5_hires_sizer(), "hres")):
        t = cfg.trainer
        assert (t.optimizer.name, t.lr_schedule.name, t.lr_schedule.base_lr) == ("adam", "constant", 1e-5)
        assert (t.global_batch_size, t.epochs) == (4, 20_000)
        assert (cfg.task.identity_steps, cfg.task.identity_epochs) == (-1, 16)
        assert (cfg.task.laplacian_weight, cfg.task.local_weight) == (100.0, 1.0)
        assert cfg.train_data.path == "sizer/parsernet_g5_vc_vn.npz"
        assert cfg.model.name.startswith("sizer_parsernet_g5_") and cfg.train_data.resolution == resolution
    assert issubclass(parser_objective.StagedParserNet, parser_objective.ParserNet)
