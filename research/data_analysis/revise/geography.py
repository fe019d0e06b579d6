"""Geography-based measurement (the official geo_ctr): images per country and per subregion.

Countries come from a GeoJSON FeatureCollection of (Multi)Polygons, e.g. the Natural Earth admin-0
countries exported to GeoJSON (the official tool reads that shapefile with Basemap). Each feature's name
is the first of its properties `name`, `ADMIN`, `NAME`; its subregion the first of `subregion`,
`SUBREGION` (Natural Earth's field) or "unknown". A (lat, lng) location is placed with shapely's
point-in-polygon test (boundary points count as inside); a string location is taken as the country name.
Tags per region and local-vs-tourist language (geo_tag, geo_lng) are not measured (README).
"""

from __future__ import annotations

import json
import os
from typing import Any

from official.core.errors import PathNotFoundError
from research.data_analysis.revise.dataset import AuditDataset
from research.data_analysis.revise.readers import ReviseInputError

NAME_KEYS = ("name", "ADMIN", "NAME")
SUBREGION_KEYS = ("subregion", "SUBREGION")
UNKNOWN = "unknown"


class Regions:
    """Country polygons with their names and subregions."""

    def __init__(self, names: list[str], subregions: list[str], shapes: list[Any]):
        from shapely.strtree import STRtree

        self.names, self.subregions, self.shapes = names, subregions, shapes
        self._tree = STRtree(shapes)
        self.subregion_of = dict(zip(names, subregions, strict=True))

    @classmethod
    def load(cls, path: str) -> Regions:
        """Reads a GeoJSON FeatureCollection; errors name the file and the feature index."""
        from shapely.geometry import shape

        if not os.path.isfile(path):
            raise PathNotFoundError(f"{path}: regions GeoJSON file does not exist")
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise ReviseInputError(f"{path}: not valid JSON ({err})") from err
        if not isinstance(data, dict) or not isinstance(data.get("features"), list):
            raise ReviseInputError(f"{path}: not a GeoJSON FeatureCollection (no 'features' list)")
        names, subregions, shapes = [], [], []
        for i, feature in enumerate(data["features"]):
            props = (feature or {}).get("properties") or {}
            name = next((props[k] for k in NAME_KEYS if props.get(k)), None)
            if name is None:
                raise ReviseInputError(f"{path}: features[{i}].properties has no {' / '.join(NAME_KEYS)}")
            try:
                geom = shape(feature["geometry"])
            except Exception as err:  # shapely raises several types for bad geometry
                raise ReviseInputError(f"{path}: features[{i}].geometry is not a valid GeoJSON geometry ({err})") from err
            if geom.geom_type not in ("Polygon", "MultiPolygon"):
                raise ReviseInputError(f"{path}: features[{i}].geometry is a {geom.geom_type}, not a (Multi)Polygon")
            names.append(str(name))
            subregions.append(str(next((props[k] for k in SUBREGION_KEYS if props.get(k)), UNKNOWN)))
            shapes.append(geom)
        return cls(names, subregions, shapes)

    def country_of(self, lat: float, lng: float) -> str | None:
        """The first country whose polygon covers (lng, lat), or None (at sea, or outside the file)."""
        from shapely.geometry import Point

        point = Point(lng, lat)  # GeoJSON order: x = longitude, y = latitude
        for idx in sorted(self._tree.query(point)):
            if self.shapes[idx].covers(point):
                return self.names[idx]
        return None


def measure_geography(dataset: AuditDataset, regions: Regions | None) -> dict[str, Any]:
    """Images per country and per subregion; GPS locations need `regions`."""
    countries: dict[str, int] = {}
    unplaced = 0
    for img in dataset.images:
        loc = img.location
        if loc is None:
            continue
        if isinstance(loc, tuple):
            if regions is None:
                raise ReviseInputError(f"{dataset.source}: {img.file_name} has lat/lng but no --regions GeoJSON was given")
            loc = regions.country_of(*loc)
            if loc is None:
                unplaced += 1
                continue
        countries[loc] = countries.get(loc, 0) + 1
    subregions: dict[str, int] = {}
    for country, count in countries.items():
        sub = regions.subregion_of.get(country, UNKNOWN) if regions else UNKNOWN
        subregions[sub] = subregions.get(sub, 0) + count
    all_countries = sorted(regions.names) if regions else sorted(countries)
    return {
        "countries": {c: countries.get(c, 0) for c in sorted(set(all_countries) | set(countries))},
        "subregions": dict(sorted(subregions.items())),
        "unplaced": unplaced,
        "located_images": sum(countries.values()) + unplaced,
    }
