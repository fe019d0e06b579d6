"""The recorded model table: shape-only counting, recount's merge rules, the README block."""

from __future__ import annotations

import keras
import pytest
from keras.src.backend.common import global_state

from official.core import model_table, registry


def _tiny(**overrides):
    """conv 3x3 3->4 (+bias) -> BN -> dense 4->5: 112 + 8 + 25 trainable, +8 moving statistics."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(overrides.get("classes", 5))(x))


@pytest.fixture
def tiny_registered():
    registry.register_model("zz_tiny_table_test")(_tiny)
    yield "zz_tiny_table_test"
    registry.unregister_model("zz_tiny_table_test")


def test_shape_only_build_counts_exactly_and_allocates_nothing():
    with model_table.shape_only():
        model = _tiny()
    assert model_table.weight_counts(model) == (145, 153)
    assert all(v._value is None for v in model.weights)  # no value was made
    assert not global_state.get_global_attribute("uninitialized_variables", [])  # nor will be later
    real = _tiny()
    assert model_table.weight_counts(real) == (145, 153) == (
        sum(v.numpy().size for v in real.trainable_weights), real.count_params())


def test_recount_counts_the_pattern_and_keeps_the_rest(tiny_registered):
    old = model_table.load()
    table = model_table.recount(tiny_registered, old, log=lambda _: None)
    entry = table["models"][tiny_registered]
    assert (entry["trainable"], entry["total"], entry["madds"], entry["task"]) == (145, 153, None, "")
    assert {n: e for n, e in table["models"].items() if n != tiny_registered} == old["models"]
    assert table["experiments"] == old["experiments"]
    with pytest.raises(model_table.TableError, match="zz_tiny_table_test: no recorded counts"):
        model_table.recount("cpn_hg52", old, log=lambda _: None)  # the new model has none to keep
    with pytest.raises(model_table.TableError, match="no registered model"):
        model_table.recount("nothing_*", old, log=lambda _: None)


def test_write_readme_replaces_only_the_generated_block(tmp_path):
    table = model_table.load()
    path = tmp_path / "README.md"
    path.write_text(f"# zoo\n\n{model_table.README_BEGIN}\nold table\n{model_table.README_END}\n\nafter\n")
    model_table.write_readme(table, str(path))
    text = path.read_text()
    assert text.startswith("# zoo\n\n") and text.endswith(f"{model_table.README_END}\n\nafter\n")
    assert model_table.readme_block(text) == model_table.markdown(table)
    path.write_text("no markers\n")
    with pytest.raises(model_table.TableError, match="no generated models table"):
        model_table.write_readme(table, str(path))


def test_load_names_the_fix(tmp_path):
    with pytest.raises(model_table.TableError, match="--recount"):
        model_table.load(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text('{"models": {}')
    with pytest.raises(model_table.TableError, match="not valid JSON"):
        model_table.load(str(tmp_path / "bad.json"))
