"""REVISE dataset audit: object, person-attribute and geography statistics as JSON and an HTML report.

    python -m tools.revise --coco ANNOTATIONS.json --images DIR --out REPORT_DIR \\
        [--attributes ATTR.json] [--locations LOC.json --regions COUNTRIES.geojson] [--feature_model M.keras]
    python -m tools.revise --openimages BOXES.csv [--classes CLASSES.csv] [--images DIR] --out REPORT_DIR

REPORT_DIR gets measurements.json (raw statistics), summary.json (tables and findings), report.html and
its PNG figures; it is written to a temp folder and renamed when complete. Findings are correlations for
a person to judge, not verdicts (research/data_analysis/revise/README.md says what each check measures).
"""

from __future__ import annotations

import os

from absl import flags

from official.core.errors import BadValueError, UserError
from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the flags; called only when the tool runs, so tools can be imported together."""
    flags.DEFINE_string("coco", None, "COCO instances JSON to audit (images need id, file_name, width, height).")
    flags.DEFINE_string("openimages", None, "OpenImages-style boxes CSV (ImageID, LabelName, XMin, XMax, YMin, YMax; "
                        "coordinates already in [0, 1]); instead of --coco.")
    flags.DEFINE_string("classes", None, "OpenImages class-descriptions CSV (LabelName,DisplayName, no header) "
                        "naming the --openimages labels; optional.")
    flags.DEFINE_string("images", None, "Image folder: COCO file_name or OpenImages <ImageID>.jpg. Required with "
                        "--coco; every listed image must exist. Used for appearance features.")
    flags.DEFINE_string("out", None, "Report folder to write (replaced if it exists, only once the new one is complete).")
    flags.DEFINE_string("attributes", None, 'Person attributes JSON: {"attribute_names": ["female", "male"], '
                        '"images": {"<file_name>": "female", ...}}; one value per image goes to its largest person box.')
    flags.DEFINE_bool("gender_from_labels", False, "Derive a female/male attribute from Woman/Girl vs Man/Boy boxes "
                      "(the official OpenImages rule; images with both or neither stay unannotated).")
    flags.DEFINE_list("attribute_prior", None, "Images per attribute value over the full dataset for the binomial "
                      "tests, e.g. 6642,16324 (COCO gender); default: the counts in --attributes.")
    flags.DEFINE_string("locations", None, 'Locations JSON: {"<file_name>": "Country" | {"lat": .., "lng": ..}}.')
    flags.DEFINE_string("regions", None, "GeoJSON FeatureCollection of country polygons (properties name or ADMIN, "
                        "optional subregion or SUBREGION); needed for lat/lng locations.")
    flags.DEFINE_list("people", ["person", "man", "woman", "boy", "girl"], "Category names that are people "
                      "(case-insensitive).")
    flags.DEFINE_enum("features", "thumbnail", ["thumbnail", "none"], "Appearance features for attribute "
                      "separability when --feature_model is not given: 8x8 thumbnails (no weights) or none (skip).")
    flags.DEFINE_string("feature_model", None, "A .keras model mapping images to feature vectors (e.g. a converted "
                        "Places365 ResNet-18); replaces --features.")
    flags.DEFINE_integer("permutations", 100, "Label permutations of the separability test (official: 100).", lower_bound=1)
    flags.DEFINE_integer("seed", 0, "Seed of the cross-validation folds and permutations.")
    flags.DEFINE_float("alpha", 0.05, "p-value under which a test becomes a finding (no multiple-test correction).")
    flags.DEFINE_bool("legacy", False, "Reproduce the official tool's box centre [x0 + x1/2, y0 + y1/2] and its +1-pixel "
                      "IoU on x-x-y-y boxes instead of the corrected formulas.")
    flags.mark_flags_as_required(["out"])


def _say(message: str) -> None:
    print(f"revise | {message}", flush=True)


def main(argv: list[str]) -> None:
    del argv
    if bool(FLAGS.coco) == bool(FLAGS.openimages):
        raise BadValueError("give exactly one of --coco and --openimages")
    if FLAGS.coco and not FLAGS.images:
        raise BadValueError("--images is required with --coco (the folder of the COCO file_name entries)")
    prior = None
    if FLAGS.attribute_prior:
        try:
            prior = [int(v) for v in FLAGS.attribute_prior]
        except ValueError as err:
            raise BadValueError(f"--attribute_prior must be integers, got {FLAGS.attribute_prior}") from err
        if len(prior) < 2 or min(prior) < 0 or sum(prior[:2]) == 0:
            raise BadValueError("--attribute_prior needs two non-negative counts, not both zero")
    from research.data_analysis.revise import audit, features, geography, readers
    from research.data_analysis.revise.summary import Thresholds
    from research.data_analysis.revise.write import write_report

    _say(f"reading {FLAGS.coco or FLAGS.openimages}")
    if FLAGS.coco:
        dataset = readers.read_coco(FLAGS.coco, FLAGS.images, FLAGS.people)
    else:
        dataset = readers.read_openimages(FLAGS.openimages, FLAGS.classes, FLAGS.images, FLAGS.people)
    if FLAGS.attributes and FLAGS.gender_from_labels:
        raise BadValueError("give at most one of --attributes and --gender_from_labels")
    if FLAGS.attributes:
        readers.attach_attributes(dataset, FLAGS.attributes)
    if FLAGS.gender_from_labels:
        _say(f"attributes from labels: {readers.attributes_from_labels(dataset)} images")
    if FLAGS.locations:
        readers.attach_locations(dataset, FLAGS.locations)
    regions = geography.Regions.load(FLAGS.regions) if FLAGS.regions else None
    extractor = None
    if dataset.has_attributes and any(img.path for img in dataset.images):
        if FLAGS.feature_model:
            extractor = features.KerasExtractor.load(FLAGS.feature_model)
        elif FLAGS.features == "thumbnail":
            extractor = features.ThumbnailExtractor()
    measurements = audit.measure(dataset, legacy=FLAGS.legacy, extractor=extractor, regions=regions,
                                 attribute_prior=prior, n_permutations=FLAGS.permutations,
                                 thresholds=Thresholds(alpha=FLAGS.alpha), seed=FLAGS.seed, progress=_say)
    try:
        summary = write_report(measurements, FLAGS.out)
    except OSError as err:
        raise UserError(f"{FLAGS.out}: cannot write the report ({err})") from err
    _say(f"{len(summary['findings'])} findings (correlations to review, not verdicts):")
    for finding in summary["findings"]:
        print(f"  [{finding['axis']}/{finding['kind']}] {finding['text']}")
    _say(f"wrote {os.path.join(FLAGS.out, 'report.html')} and summary.json")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)
