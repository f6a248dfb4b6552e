// Maps without online tiles: boundaries, roads and points are drawn from the platform's
// own data (deployments may have no internet).
import { get } from "./api.js";
import { esc } from "./html.js";
import { areaName } from "./i18n.js";

const L = window.L;
export const STATE_COLOURS = {
  available: "#1a9850", busy: "#2c7fb8", faulted: "#d73027", offline: "#8c8c8c", stopped: "#54278f",
};

let layersPromise = null;
export function mapLayers() {
  layersPromise ??= get("/api/v1/map/layers");
  return layersPromise;
}

export function blankMap(element) {
  const map = L.map(element, {
    preferCanvas: true, zoomSnap: 0.25, attributionControl: false, worldCopyJump: false,
  });
  map.setView([38.4, 112.7], 8);
  return map;
}

// Counties (and the city outline) and roads; returns the boundary layer.
export async function drawBase(map, { areaCode = null } = {}) {
  const layers = await mapLayers();
  const boundaries = layers.boundaries;
  let boundaryLayer = null;
  if (boundaries) {
    const features = boundaries.features.filter((f) =>
      !areaCode || f.properties.code === areaCode || f.properties.code.startsWith(areaPrefix(areaCode)));
    boundaryLayer = L.geoJSON({ type: "FeatureCollection", features }, {
      style: (f) => f.properties.level === "city"
        ? { color: "#444", weight: 2, fill: false }
        : { color: "#7a7a7a", weight: 1, fillColor: "#f4f1ea", fillOpacity: 0.6 },
      onEachFeature: (f, layer) => {
        if (f.properties.level !== "city") layer.bindTooltip(esc(areaName(f.properties)), { sticky: true });
      },
    }).addTo(map);
  }
  const roads = L.layerGroup(
    layers.roads.map((road) => L.polyline(road.points, { color: "#e08a00", weight: 2.5, opacity: 0.8 })
      .bindTooltip(esc(road.ref), { sticky: true })),
  ).addTo(map);
  return { boundaryLayer, roads };
}

export function areaPrefix(code) {
  if (code.length === 6 && code.endsWith("0000")) return code.slice(0, 2);
  if (code.length === 6 && code.endsWith("00")) return code.slice(0, 4);
  return code;
}
