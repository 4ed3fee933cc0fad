"""Pure geometry for PartnerMap: WGS84 points, boxes, service areas, distances and GeoJSON.

Plain data in and out (floats, numpy arrays, shapely geometries, dicts, frozen dataclasses);
no web or database imports, so the SQLite path of the service can compute in-process exactly
what PostGIS geography computes on PostgreSQL.

Asset mapping: `grid` (map-tile cells), `assets` (counts per cell), `coverage` (capacity-aware
met / thin / unmet over the need-offering pairs that matching.pairs scores) and `gaps` (gap
order, partnership deserts, summary by category). geo imports nothing from `matching`: ranking
stands on geometry (its distances are `distance.haversine_km`), not the reverse.
"""

from geo.areas import (
    MAX_AREA_VERTICES,
    MAX_RADIUS_M,
    MAX_STORED_VERTICES,
    covers,
    covers_many,
    densified_vertices,
    densify_edges,
    display_area,
    display_geojson,
    parse_service_area,
    service_area_from_radius,
    stored_service_area,
    to_geojson,
)
from geo.assets import AssetColumns, AssetCounts, count_assets, padded_box
from geo.bbox import BBox, parse_bbox
from geo.coverage import MET, STATUSES, THIN, UNMET, Coverage, CoverageConfig, needs_coverage
from geo.distance import geodesic_m, haversine_km, radius_bbox, within_radius
from geo.errors import GeometryError
from geo.gaps import (
    CategorySummary,
    Desert,
    DesertConfig,
    deserts,
    gap_order,
    nearest_km,
    summarize,
)
from geo.geojson import feature, feature_collection, point_feature
from geo.grid import (
    MAX_LEVEL,
    CellRange,
    aggregate,
    cell_bounds,
    cell_geometry,
    cell_id,
    cell_range,
    cell_size_km,
    cell_xy,
    parse_cell_id,
)
from geo.points import parse_near, validate_point

__all__ = [
    "MAX_AREA_VERTICES",
    "MAX_LEVEL",
    "MAX_RADIUS_M",
    "MAX_STORED_VERTICES",
    "MET",
    "STATUSES",
    "THIN",
    "UNMET",
    "AssetColumns",
    "AssetCounts",
    "BBox",
    "CategorySummary",
    "CellRange",
    "Coverage",
    "CoverageConfig",
    "Desert",
    "DesertConfig",
    "GeometryError",
    "aggregate",
    "cell_bounds",
    "cell_geometry",
    "cell_id",
    "cell_range",
    "cell_size_km",
    "cell_xy",
    "count_assets",
    "covers",
    "covers_many",
    "densified_vertices",
    "densify_edges",
    "deserts",
    "display_area",
    "display_geojson",
    "feature",
    "feature_collection",
    "gap_order",
    "geodesic_m",
    "haversine_km",
    "nearest_km",
    "needs_coverage",
    "padded_box",
    "parse_bbox",
    "parse_cell_id",
    "parse_near",
    "parse_service_area",
    "point_feature",
    "radius_bbox",
    "service_area_from_radius",
    "stored_service_area",
    "summarize",
    "to_geojson",
    "validate_point",
    "within_radius",
]
