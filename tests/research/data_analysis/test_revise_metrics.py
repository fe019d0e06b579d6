"""REVISE measurements against independent references (spec card checks 1-7; check 8 is in test_revise_report).

References: presence-matrix products for co-occurrence, shapely polygons for IoU and country lookup, the
binomial pmf summed by the two-sided rule for the p-value, sklearn's permutation test for separability.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import stats
from shapely.geometry import box as shapely_box

from research.data_analysis.revise import attribute_metrics, boxes, geography, object_metrics, readers
from research.data_analysis.revise.dataset import AuditDataset, ImageRecord
from research.data_analysis.revise.summary import summarize
from tests.research.data_analysis import revise_fixture as fx


def _dataset(images: list[ImageRecord], categories: list[str], people=(0,)) -> AuditDataset:
    return AuditDataset(source="<test>", categories=categories, supercategory_of=list(range(len(categories))),
                        supercategories=list(categories), people=set(people), images=images)


def _random_dataset(seed: int = 0, num_images: int = 60, num_cats: int = 6) -> AuditDataset:
    """Images with repeated instances of a category (so per-instance counting would differ)."""
    rng = np.random.default_rng(seed)
    images = []
    for n in range(num_images):
        k = int(rng.integers(0, 7))
        x0, y0 = rng.uniform(0, 0.5, (2, k))
        w, h = rng.uniform(0.05, 0.5, (2, k))
        images.append(ImageRecord(file_name=f"{n}.jpg", path=None, boxes=np.stack([x0, x0 + w, y0, y0 + h], 1),
                                  labels=rng.integers(0, num_cats, k)))
    return _dataset(images, [f"c{i}" for i in range(num_cats)])


# --- check 1: co-occurrence once per image per unordered pair --------------------------------------------
def test_cooccurrence_equals_presence_matrix_product():
    dataset = _random_dataset()
    presence = np.zeros((len(dataset.images), len(dataset.categories)), np.int64)
    for n, img in enumerate(dataset.images):
        presence[n, img.labels] = 1
    expected = presence.T @ presence  # (i, j): images with both; (i, i): images with i
    measured = np.asarray(object_metrics.measure_objects(dataset)["cooccurrence"])
    np.testing.assert_array_equal(measured, expected)
    assert sum(len(img.labels) for img in dataset.images) > presence.sum()  # repeats exist in the fixture
    keys = object_metrics.pair_key_counts(measured)
    assert all(int(k.split("-")[0]) <= int(k.split("-")[1]) for k in keys)
    assert keys == {f"{i}-{j}": int(expected[i, j]) for i in range(6) for j in range(i, 6) if expected[i, j]}


def test_cooccurrence_on_the_coco_fixture(tmp_path):
    paths = fx.write(str(tmp_path))
    dataset = readers.read_coco(paths["coco"], paths["images"])
    matrix = np.asarray(object_metrics.measure_objects(dataset)["cooccurrence"])
    names = dataset.categories
    car, bicycle, dog = names.index("car"), names.index("bicycle"), names.index("dog")
    assert matrix[car, bicycle] == matrix[car, car] == matrix[bicycle, bicycle] == 6
    assert matrix[dog, dog] == 30 and matrix[dog, car] == 0


# --- check 2: COCO box conversion and area --------------------------------------------------------------
def test_coco_box_conversion_and_area():
    x, y, w, h, width, height = 10.0, 20.0, 30.0, 40.0, 200, 100
    box = boxes.coco_to_revise([x, y, w, h], width, height)
    assert box == pytest.approx([x / width, (x + w) / width, y / height, (y + h) / height])
    assert boxes.area(box) == pytest.approx((w / width) * (h / height))


def test_read_coco_normalises_boxes(tmp_path):
    paths = fx.write(str(tmp_path), num_images=4)
    dataset = readers.read_coco(paths["coco"], paths["images"])
    first = fx.build(4)[0]["annotations"][0]["bbox"]
    np.testing.assert_allclose(dataset.images[0].boxes[0], boxes.coco_to_revise(first, fx.WIDTH, fx.HEIGHT))
    assert dataset.supercategories[:3] == ["person", "animal", "sports"]
    assert dataset.people == {0}


# --- check 3: centre formula, corrected vs the official quirk ---------------------------------------------
def test_centre_corrected_and_legacy():
    box = [0.2, 0.6, 0.1, 0.5]
    np.testing.assert_allclose(boxes.centre(box), [0.4, 0.3])
    np.testing.assert_allclose(boxes.centre(box, legacy=True), [0.5, 0.35])
    assert boxes.centre_distance(box) == pytest.approx(np.hypot(0.1, 0.2))
    assert boxes.centre_distance(box, legacy=True) == pytest.approx(0.15)


# --- check 4: overlap rule ---------------------------------------------------------------------------------
def _pair_with_iou(target: float) -> tuple[list[float], list[float]]:
    """Two [x0, x1, y0, y1] boxes, b inside a with `target` of its height, so IoU = target."""
    a = [0.1, 0.5, 0.1, 0.5]
    b = [0.1, 0.5, 0.1, 0.1 + 0.4 * target]  # inside a: IoU = area(b) / area(a) = target
    return a, b


@pytest.mark.parametrize("target, counted", [(0.96, True), (0.94, False)])
def test_overlap_rule(target, counted):
    a, b = _pair_with_iou(target)
    reference = shapely_box(a[0], a[2], a[1], a[3]).intersection(shapely_box(b[0], b[2], b[1], b[3])).area
    reference /= shapely_box(a[0], a[2], a[1], a[3]).union(shapely_box(b[0], b[2], b[1], b[3])).area
    assert boxes.iou(a, b) == pytest.approx(reference) == pytest.approx(target)
    img = ImageRecord("x.jpg", None, np.array([a, b, a]), np.array([1, 2, 1]))
    same = ImageRecord("y.jpg", None, np.array([a, b]), np.array([1, 1]))  # same label: never counted
    found = object_metrics.overlaps(_dataset([img, same], ["p", "cup", "mug"]))
    assert found == ({"1-2": 1} if counted else {})


def test_legacy_iou_is_the_official_pixel_formula():
    a, b = [0.40, 0.42, 0.40, 0.42], [0.41, 0.43, 0.41, 0.43]  # small boxes, IoU 1/7
    # official: boxes read as [x1, y1, x2, y2] = [a0, a1, a2, a3], +1 on every side
    inter = (min(a[2], b[2]) - max(a[0], b[0]) + 1) * (min(a[3], b[3]) - max(a[1], b[1]) + 1)
    union = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - inter
    assert boxes.iou(a, b, legacy=True) == pytest.approx(inter / union)
    # +1 on normalised coordinates: nearby small boxes pass 0.95, which is why the corrected rule is the default
    assert boxes.iou(a, b, legacy=True) > 0.95
    assert boxes.iou(a, b) == pytest.approx(1 / 7)


# --- check 5: attribute separability --------------------------------------------------------------------------
def test_separability_of_shifted_features():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (20, 16)), rng.normal(1.0, 1, (20, 16))  # mean shift of 1 in every dimension
    result = attribute_metrics.separability(a, b, n_permutations=100, seed=0)
    assert result["accuracy"] > 0.9
    assert result["p_value"] < 0.05
    assert result["p_value"] == pytest.approx(1 / 101)  # no permutation reached the true accuracy


def test_no_separability_without_shift():
    from sklearn.svm import LinearSVC

    p_values = []
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        a, b = rng.normal(0, 1, (16, 16)), rng.normal(0, 1, (16, 16))
        p_values.append(attribute_metrics.separability(a, b, n_permutations=19, seed=seed,
                                                       estimator=LinearSVC())["p_value"])
    assert sum(p > 0.05 for p in p_values) >= 2, p_values


# --- check 6: geography ------------------------------------------------------------------------------------------
def test_gps_points_map_to_countries_and_subregions(tmp_path):
    paths = fx.write(str(tmp_path), num_images=3)
    regions = geography.Regions.load(paths["regions"])
    points = [(5.0, 5.0), (2.0, 8.0), (5.0, 15.0)]  # (lat, lng): Aland, Aland, Borduria
    assert [regions.country_of(*p) for p in points] == ["Aland", "Aland", "Borduria"]
    assert regions.country_of(50.0, 50.0) is None
    images = [ImageRecord(f"{n}.jpg", None, np.zeros((0, 4)), np.zeros(0, int), location=p)
              for n, p in enumerate(points + [(50.0, 50.0)])]
    geo = geography.measure_geography(_dataset(images, ["person"]), regions)
    assert geo["countries"] == {"Aland": 2, "Borduria": 1}
    assert geo["subregions"] == {"East": 1, "North": 2}
    assert geo["unplaced"] == 1


# --- check 7: binomial flags -------------------------------------------------------------------------------------
def _two_sided_reference(k: int, n: int, p: float) -> float:
    """The two-sided exact binomial p-value by its definition: outcomes no more likely than k."""
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    return float(min(1.0, pmf[pmf <= pmf[k] * (1 + 1e-7)].sum()))


def test_binomial_flag_matches_binomtest():
    person = [0.3, 0.7, 0.2, 0.9]
    images = []
    for n in range(100):  # 'surfboard' with 30 female and 70 male images
        images.append(ImageRecord(f"{n}.jpg", None, np.array([person, [0.1, 0.2, 0.1, 0.2]]), np.array([0, 1]),
                                  attributes=[0 if n < 30 else 1], person_boxes=[person]))
    dataset = _dataset(images, ["person", "surfboard"])
    dataset.attribute_names = ["female", "male"]
    attrs = attribute_metrics.measure_attributes(dataset)
    assert attrs["category_counts"] == [[30, 30], [70, 70]]
    assert [np.asarray(m)[0, 1] for m in attrs["pair_counts"]] == [30, 70]  # (person, surfboard) per value
    measurements = {"dataset": {"categories": dataset.categories, "supercategories": dataset.supercategories,
                                "supercategory_of": dataset.supercategory_of},
                    "objects": object_metrics.measure_objects(dataset), "attributes": attrs,
                    "attribute_prior": [6642, 16324]}
    rows = {r["category"]: r for r in summarize(measurements)["attributes"]["categories"]}
    prior = 6642 / (6642 + 16324)
    expected = stats.binomtest(30, 100, prior).pvalue
    assert abs(rows["surfboard"]["p_value"] - expected) < 1e-12
    assert abs(rows["surfboard"]["p_value"] - _two_sided_reference(30, 100, prior)) < 1e-12
    assert rows["surfboard"]["share"] == 0.3 and rows["surfboard"]["prior"] == pytest.approx(prior)


def test_attribute_distance_is_normalised_by_areas():
    person, cup, far_cup = [0.0, 0.4, 0.0, 0.4], [0.4, 0.6, 0.4, 0.6], [0.8, 1.0, 0.8, 1.0]
    img = ImageRecord("a.jpg", None, np.array([person, cup, far_cup]), np.array([0, 1, 1]),
                      attributes=[1], person_boxes=[person])
    dataset = _dataset([img], ["person", "cup"])
    dataset.attribute_names = ["female", "male"]
    distances = attribute_metrics.measure_attributes(dataset)["distances"]
    expected = np.hypot(0.3, 0.3) / np.sqrt(0.16 * 0.04)  # the closer cup only
    assert distances[1] == [[], [pytest.approx(expected)]]
    assert distances[0] == [[], []]  # the person's own box is not paired with itself


# --- input errors name the file and the field ---------------------------------------------------------------
@pytest.mark.parametrize("name, content, expected", [
    ("attributes.json", {"attribute_names": ["female", "male"], "images": {"img_000.jpg": "unknown"}},
     "attributes.json: images.img_000.jpg value 'unknown' is not in attribute_names"),
    ("attributes.json", {"images": {"img_021.jpg": "female", "img_000.jpg": "male"}},
     "attributes.json: images.img_021.jpg has an attribute but no person box"),
    ("locations.json", {"img_000.jpg": {"lat": 95, "lng": 0}}, "locations.json: img_000.jpg lat/lng (95.0, 0.0) out of range"),
    ("locations.json", {"other.jpg": "France"}, "locations.json: other.jpg is not an image of"),
])
def test_side_input_errors_name_file_and_field(tmp_path, name, content, expected):
    import json

    paths = fx.write(str(tmp_path), num_images=24)
    dataset = readers.read_coco(paths["coco"], paths["images"])
    path = tmp_path / name
    path.write_text(json.dumps(content))
    attach = readers.attach_attributes if name.startswith("attributes") else readers.attach_locations
    with pytest.raises(readers.ReviseInputError) as err:
        attach(dataset, str(path))
    assert str(err.value).startswith(str(path)) and expected in str(err.value)


def test_missing_image_and_bad_regions_are_errors(tmp_path):
    from official.core.errors import UserError

    paths = fx.write(str(tmp_path), num_images=2)
    os.remove(os.path.join(paths["images"], "img_001.jpg"))
    with pytest.raises(UserError, match="img_001.jpg: image file of images\\[1\\]"):
        readers.read_coco(paths["coco"], paths["images"])
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"properties": {"ADMIN": "X"}, '
                   '"geometry": {"type": "Point", "coordinates": [0, 0]}}]}')
    with pytest.raises(readers.ReviseInputError, match=r"features\[0\].geometry is a Point"):
        geography.Regions.load(str(bad))


def test_gender_from_openimages_labels():
    """The official OpenImages rule: only Woman/Girl boxes -> female, only Man/Boy -> male, the largest box."""
    small, large, other = [0.1, 0.2, 0.1, 0.2], [0.1, 0.6, 0.1, 0.6], [0.5, 0.9, 0.5, 0.9]
    images = [ImageRecord("a", None, np.array([small, large]), np.array([1, 3])),  # Woman + Girl
              ImageRecord("b", None, np.array([other]), np.array([2])),  # Man
              ImageRecord("c", None, np.array([small, other]), np.array([1, 2])),  # both: unannotated
              ImageRecord("d", None, np.array([other]), np.array([4]))]  # no person
    dataset = _dataset(images, ["Person", "Woman", "Man", "Girl", "Cup"])
    assert readers.attributes_from_labels(dataset) == 2
    assert dataset.attribute_names == ["female", "male"]
    assert [img.attributes for img in images] == [[0], [1], [], []]
    assert images[0].person_boxes == [large] and images[1].person_boxes == [other]
