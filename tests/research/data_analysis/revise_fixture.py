"""A tiny COCO-format dataset with planted imbalances, written in the real formats for the REVISE tests.

40 images of 40 x 32 px (JPEG files of that size, so the appearance features have something to read):
- 'dog' is in 30 images, every other object category in 8 or fewer (over-represented);
- 'car' and 'bicycle' always appear together (6 images) and never apart (co-occurrence);
- 'kite' boxes are always 3 x 3 px in the top-left corner, other boxes large and centred (size, position);
- 'mug' boxes coincide with 'cup' boxes in 2 images (overlap, IoU 1);
- 20 images have a person with a gender label, 10 'female' and 10 'male'; 'cup' is in 8 of them, all
  'female' (attribute skew); female images are reddish and male images bluish (appearance separability);
- every image with a location is inside the polygon of 'Aland' (one country; 'Borduria' has none).
"""

from __future__ import annotations

import json
import os

import numpy as np

WIDTH, HEIGHT = 40, 32
CATEGORIES = [(1, "person", "person"), (2, "dog", "animal"), (3, "frisbee", "sports"), (4, "car", "vehicle"),
              (5, "bicycle", "vehicle"), (6, "cup", "kitchen"), (7, "kite", "sports"), (8, "mug", "kitchen")]
ID = {name: cid for cid, name, _ in CATEGORIES}
# two squares side by side: (lng, lat) rings
REGIONS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"ADMIN": "Aland", "SUBREGION": "North"},
     "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}},
    {"type": "Feature", "properties": {"name": "Borduria", "subregion": "East"},
     "geometry": {"type": "Polygon", "coordinates": [[[10, 0], [20, 0], [20, 10], [10, 10], [10, 0]]]}},
]}


def _labels(n: int) -> list[str]:
    """Object categories of image n (before the person)."""
    labels = []
    if n < 30:
        labels.append("dog")
    if 30 <= n < 36:
        labels += ["car", "bicycle"]
    if n in (0, 3, 6, 9, 12, 15):
        labels.append("frisbee")
    if n in (24, 25, 26, 27, 28, 29):
        labels.append("kite")
    if n in (1, 3, 5, 7, 9, 11, 13, 15):  # all female (odd n < 20 below)
        labels.append("cup")
    if n in (1, 3):
        labels.append("mug")
    return labels


def _gender(n: int) -> str | None:
    """Images 0-19 have a labelled person: odd n female, even n male (cup images are odd, dog images mixed)."""
    if n >= 20:
        return None
    return "female" if n % 2 else "male"


def _centred_box(rng, category_id: int) -> list[float]:
    """A box near the centre whose side fraction (0.3 + 0.06 id) differs per category, so that boxes of
    different categories never reach IoU 0.95 by chance."""
    side = 0.3 + 0.06 * category_id
    w, h = WIDTH * side, HEIGHT * side
    return [round((WIDTH - w) / 2 + rng.uniform(-3, 3), 2), round((HEIGHT - h) / 2 + rng.uniform(-3, 3), 2),
            round(w, 2), round(h, 2)]


def build(num_images: int = 40, seed: int = 0) -> tuple[dict, dict, dict]:
    """(COCO dict, attributes dict, locations dict)."""
    rng = np.random.default_rng(seed)
    images, anns, attributes, locations = [], [], {}, {}
    for n in range(num_images):
        name = f"img_{n:03d}.jpg"
        images.append({"id": n + 1, "file_name": name, "width": WIDTH, "height": HEIGHT})
        labels = _labels(n) + (["person"] if _gender(n) else [])
        cup_box = None
        for label in labels:
            if label == "kite":
                box = [1.0, 1.0, 3.0, 3.0]
            elif label == "mug":
                box = list(cup_box)
            else:
                box = _centred_box(rng, ID[label])
            if label == "cup":
                cup_box = box
            anns.append({"id": len(anns) + 1, "image_id": n + 1, "category_id": ID[label], "bbox": box,
                         "area": box[2] * box[3], "iscrowd": 0})
        if _gender(n):
            attributes[name] = _gender(n)
        if n % 4 == 0:
            locations[name] = {"lat": float(rng.uniform(1, 9)), "lng": float(rng.uniform(1, 9))}
    coco = {"images": images, "annotations": anns,
            "categories": [{"id": c, "name": nm, "supercategory": s} for c, nm, s in CATEGORIES]}
    return coco, {"attribute_names": ["female", "male"], "images": attributes}, locations


def write(root: str, num_images: int = 40) -> dict[str, str]:
    """Writes annotations.json, attributes.json, locations.json, regions.geojson and images/*.jpg."""
    from PIL import Image

    coco, attributes, locations = build(num_images)
    image_dir = os.path.join(root, "images")
    os.makedirs(image_dir, exist_ok=True)
    rng = np.random.default_rng(1)
    for img in coco["images"]:
        gender = attributes["images"].get(img["file_name"])
        base = {"female": (200, 60, 60), "male": (60, 60, 200), None: (128, 128, 128)}[gender]
        pixels = np.clip(np.array(base) + rng.normal(0, 20, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(image_dir, img["file_name"]), quality=90)
    paths = {"coco": os.path.join(root, "annotations.json"), "images": image_dir,
             "attributes": os.path.join(root, "attributes.json"), "locations": os.path.join(root, "locations.json"),
             "regions": os.path.join(root, "regions.geojson")}
    for key, value in (("coco", coco), ("attributes", attributes), ("locations", locations), ("regions", REGIONS)):
        with open(paths[key], "w", encoding="utf-8") as f:
            json.dump(value, f)
    return paths
