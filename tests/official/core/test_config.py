"""Experiment configs: overrides apply, and bad keys or types are errors that name the key."""

from __future__ import annotations

import pytest

from official.core import config as config_lib


def test_overrides_apply_with_types():
    cfg = config_lib.resolve("mobilenetv2_035_digits", params_override="trainer.epochs=3,model.width=0.5")
    assert cfg.trainer.epochs == 3 and isinstance(cfg.trainer.epochs, int)
    assert cfg.model.width == 0.5
    config_lib.apply_overrides(cfg, "train_data.rrc_scale=[0.5,1],trainer.lr_schedule.base_lr=1e-2,runtime.jit_compile=false")
    assert cfg.train_data.rrc_scale == (0.5, 1.0)
    assert cfg.trainer.lr_schedule.base_lr == pytest.approx(0.01)
    assert cfg.runtime.jit_compile is False  # str | bool field: YAML false stays a bool


def test_unknown_key_names_the_key():
    cfg = config_lib.resolve("mobilenetv2_035_digits")
    with pytest.raises(config_lib.ConfigError, match=r"trainer\.epoch: unknown key.*epochs"):
        config_lib.apply_overrides(cfg, "trainer.epoch=3")
    with pytest.raises(config_lib.ConfigError, match=r"model\.depth: unknown key"):
        config_lib.apply_overrides(cfg, "model.depth=3")


@pytest.mark.parametrize(
    "override, key, expected",
    [
        ("trainer.epochs=abc", "trainer.epochs", "int"),
        ("trainer.epochs=1.5", "trainer.epochs", "int"),
        ("model.width=true", "model.width", "float"),
        ("train_data.rrc_scale=[1,2,3]", "train_data.rrc_scale", "2 items"),
        ("train_data.cache=3", "train_data.cache", "bool"),
    ],
)
def test_wrong_type_names_key_and_type(override, key, expected):
    cfg = config_lib.resolve("mobilenetv2_035_digits")
    with pytest.raises(config_lib.ConfigError) as err:
        config_lib.apply_overrides(cfg, override)
    assert str(err.value).startswith(key + ":") and expected in str(err.value)


def test_yaml_file_then_override_and_saved_config_reproduces(tmp_path):
    yaml_file = tmp_path / "over.yaml"
    yaml_file.write_text("trainer:\n  epochs: 7\n  optimizer: {name: sgd, nesterov: true}\nmodel:\n  dropout: 0.1\n")
    cfg = config_lib.resolve("mobilenetv2_035_digits", [str(yaml_file)], "trainer.epochs=9")
    assert (cfg.trainer.epochs, cfg.trainer.optimizer.name, cfg.trainer.optimizer.nesterov) == (9, "sgd", True)
    assert cfg.model.dropout == 0.1
    saved = tmp_path / "config.yaml"
    config_lib.save_yaml(cfg, str(saved))
    again = config_lib.resolve("mobilenetv2_035_digits", [str(saved)])
    assert config_lib.to_dict(again) == config_lib.to_dict(cfg)


def test_bad_yaml_file_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer:\n  epochs: [unclosed\n")
    with pytest.raises(config_lib.ConfigError, match="bad.yaml"):
        config_lib.resolve("mobilenetv2_035_digits", [str(bad)])
    typo = tmp_path / "typo.yaml"
    typo.write_text("trainer:\n  epochz: 3\n")
    with pytest.raises(config_lib.ConfigError, match=r"typo.yaml: trainer\.epochz: unknown key"):
        config_lib.resolve("mobilenetv2_035_digits", [str(typo)])


def test_override_parser_keeps_brackets_and_quotes():
    parsed = config_lib.parse_overrides("a.b=[1, 2],c='x,y',d=3")
    assert parsed == {"a.b": [1, 2], "c": "x,y", "d": 3}
    with pytest.raises(config_lib.ConfigError, match="key=value"):
        config_lib.parse_overrides("novalue")


def test_model_config_follows_constructor_signature():
    cfg = config_lib.model_config("mobilenetv2_035", classes=10)
    assert cfg.width == 0.35 and cfg.classes == 10 and cfg.bn_momentum == 0.9
    with pytest.raises(config_lib.ConfigError, match="model.classes: expected int"):
        config_lib.model_config("mobilenetv2_035", classes="ten")


def test_relative_data_paths_resolve_against_data_dir(tmp_path, monkeypatch):
    """Issue 24: one --data_dir moves every relative data path (detection's annotations included);
    absolute paths and URLs are kept; the saved config reloads the same files from another folder."""
    monkeypatch.chdir(tmp_path)
    default = config_lib.resolve("cpn_dla34tiny_shapes")
    assert default.eval_data.path == str(tmp_path / "data" / "shapes" / "val")  # data root: ./data
    root = tmp_path / "datasets"
    cfg = config_lib.resolve(
        "cpn_dla34tiny_shapes", params_override="train_data.path=/abs/train,eval_data.path=gs://b/val-*", data_dir=str(root)
    )
    assert cfg.runtime.data_dir == str(root)
    assert cfg.train_data.annotations == str(root / "shapes" / "annotations" / "instances_train.json")
    assert cfg.eval_data.annotations == str(root / "shapes" / "annotations" / "instances_val.json")
    assert (cfg.train_data.path, cfg.eval_data.path) == ("/abs/train", "gs://b/val-*")
    saved = tmp_path / "config.yaml"
    config_lib.save_yaml(cfg, str(saved))
    monkeypatch.chdir(tmp_path / "..")
    again = config_lib.resolve("cpn_dla34tiny_shapes", [str(saved)])
    assert config_lib.to_dict(again) == config_lib.to_dict(cfg)
    yaml_root = config_lib.resolve("mobilenetv2_035_digits", params_override=f"runtime.data_dir={root}")
    assert yaml_root.train_data.path == str(root / "digits" / "train")  # the config key works as the flag does


def test_keypoint_data_paths_resolve_too(tmp_path):
    """KeypointDataConfig adds detections and the MPII ground truth to the anchored fields."""
    from official.tasks.keypoints_config import KeypointDataConfig

    assert set(KeypointDataConfig.PATH_FIELDS) == {"path", "annotations", "detections", "ground_truth"}
    cfg = config_lib.resolve("rsn_18_mpii", data_dir=str(tmp_path))
    assert cfg.eval_data.ground_truth == str(tmp_path / "mpii" / "annot" / "gt_valid.mat")
    coco = config_lib.resolve("rsn_18_coco", data_dir=str(tmp_path))
    assert coco.eval_data.detections.startswith(str(tmp_path / "coco" / "person_detection_results"))
