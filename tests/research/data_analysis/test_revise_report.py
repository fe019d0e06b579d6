"""REVISE end to end on the planted-imbalance fixture: findings, JSON round trip (card check 8), the HTML
report (parsed: every <img> file exists, tables present, tags balanced), atomic writing, the feature hook."""

from __future__ import annotations

import html.parser
import json
import os

import numpy as np
import pytest

from research.data_analysis.revise import audit, features, geography, plots, readers
from research.data_analysis.revise.summary import summarize
from research.data_analysis.revise.write import write_report
from tests.research.data_analysis import revise_fixture as fx

VOID = {"meta", "img", "br", "hr", "link", "input"}


def _load(paths):
    dataset = readers.read_coco(paths["coco"], paths["images"])
    readers.attach_attributes(dataset, paths["attributes"])
    readers.attach_locations(dataset, paths["locations"])
    return dataset


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("revise"))
    paths = fx.write(root)
    measurements = audit.measure(_load(paths), extractor=features.ThumbnailExtractor(),
                                 regions=geography.Regions.load(paths["regions"]), n_permutations=20)
    out = os.path.join(root, "report")
    summary = write_report(measurements, out)
    return {"paths": paths, "out": out, "summary": summary}


def _found(summary, kind):
    return {f["subject"]: f for f in summary["findings"] if f["kind"] == kind}


def test_finds_every_planted_imbalance(report):
    s = report["summary"]
    assert "dog" in _found(s, "over_represented")
    assert set(_found(s, "cooccurrence")) == {"car + bicycle"}
    assert set(_found(s, "overlap")) == {"cup / mug"}
    assert "smaller" in _found(s, "size")["kite"]["text"]
    assert "farther" in _found(s, "distance")["kite"]["text"]
    skew = _found(s, "category_skew")
    assert set(skew) == {"cup"} and skew["cup"]["share"] == 1.0
    assert skew["cup"]["p_value"] == pytest.approx(2 / 2**8)  # 8 of 8 female under a 50 % prior
    assert all(f["action"] for f in s["findings"]) and "'cup'" in skew["cup"]["action"]
    assert {"dog", "person"} <= set(_found(s, "separability"))  # reddish vs bluish images
    assert set(_found(s, "dominant_country")) == {"Aland"}
    assert set(_found(s, "absent_countries")) == {"Borduria"}
    assert s["geography"]["countries"] == {"Aland": 10, "Borduria": 0}


def test_no_attribute_skew_where_none_was_planted(report):
    rows = {r["category"]: r for r in report["summary"]["attributes"]["categories"]}
    assert rows["dog"]["counts"] == [10, 10] and rows["dog"]["p_value"] == pytest.approx(1.0)
    # Benjamini-Hochberg over the 4 tested categories (person, dog, frisbee, cup; mug has 2 images)
    assert set(rows) == {"person", "dog", "frisbee", "cup"}
    assert rows["cup"]["q_value"] == pytest.approx(4 * 2 / 2**8) and rows["dog"]["q_value"] == pytest.approx(1.0)


def test_measurements_round_trip_regenerates_the_summary(report):
    """Card check 8: measurements.json reloads and regenerates summary.json exactly."""
    with open(os.path.join(report["out"], "measurements.json"), encoding="utf-8") as f:
        measurements = json.load(f)
    with open(os.path.join(report["out"], "summary.json"), encoding="utf-8") as f:
        saved = json.load(f)
    assert json.loads(json.dumps(summarize(measurements))) == saved
    assert saved["findings"] == json.loads(json.dumps(report["summary"]["findings"]))


class _Html(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.images, self.tables, self.errors, self.doctype = [], [], 0, [], False

    def handle_decl(self, decl):
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        self.tables += tag == "table"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}> at {self.getpos()}")


def test_html_report_is_well_formed_and_links_existing_figures(report):
    with open(os.path.join(report["out"], "report.html"), encoding="utf-8") as f:
        parser = _Html()
        parser.feed(f.read())
        parser.close()
    assert parser.doctype and not parser.errors and not parser.stack
    assert parser.tables >= 8
    assert len(parser.images) == 5
    for img in parser.images:
        assert not os.path.isabs(img["src"]) and img.get("alt")
        with open(os.path.join(report["out"], img["src"]), "rb") as png:
            assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(report["out"])) == sorted(
        ["measurements.json", "summary.json", "report.html"] + [i["src"] for i in parser.images])


def test_failed_write_leaves_nothing_half_written(report, tmp_path, monkeypatch):
    with open(os.path.join(report["out"], "measurements.json"), encoding="utf-8") as f:
        measurements = json.load(f)

    def broken(*args):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(plots, "all_plots", broken)
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError):
        write_report(measurements, str(fresh))
    assert os.listdir(tmp_path) == []
    old = tmp_path / "old"
    old.mkdir()
    (old / "keep.txt").write_text("previous report")
    with pytest.raises(RuntimeError):
        write_report(measurements, str(old))
    assert os.listdir(tmp_path) == ["old"] and os.listdir(old) == ["keep.txt"]


def test_keras_feature_extractor_hook(report, tmp_path):
    """A random-init Keras model stands in for Places365 ResNet-18 (no weights offline): saved, loaded by
    path, its features are the model's outputs and they feed the separability analysis."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D()])
    path = str(tmp_path / "extractor.keras")
    model.save(path)
    extractor = features.KerasExtractor.load(path)
    assert extractor.input_size == 8
    dataset = _load(report["paths"])
    image_paths = {n: img.path for n, img in enumerate(dataset.images[:3])}
    got = features.extract(image_paths, extractor, batch_size=2)
    batch = np.stack([features.load_image(p, 8) for p in image_paths.values()])
    np.testing.assert_allclose(np.stack([got[n] for n in range(3)]), model.predict(batch, verbose=0), rtol=1e-5)
    measurements = audit.measure(dataset, extractor=extractor, n_permutations=5,
                                 regions=geography.Regions.load(report["paths"]["regions"]))
    assert measurements["options"]["extractor"] == "extractor.keras"
    assert {dataset.categories[int(c)] for c in measurements["separability"]} == {"person", "dog", "frisbee"}
