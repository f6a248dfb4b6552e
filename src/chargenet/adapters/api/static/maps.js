// Maps drawn from the platform's own data — boundaries, roads and points — so they work
// without internet; under them, a base map of tiles where the deployment configured a
// tile server (`map_tiles` of /api/v1/ui/config; the Content-Security-Policy admits that
// host only).
import { get, optional } from "./api.js";
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
  baseTiles(map);
  return map;
}

let configPromise = null;
async function baseTiles(map) {
  configPromise ??= optional("/api/v1/ui/config");
  const tiles = (await configPromise)?.map_tiles;
  if (!tiles) return;
  L.tileLayer(tiles.url, { maxZoom: 19, attribution: esc(tiles.attribution || "") }).addTo(map);
  if (tiles.attribution) L.control.attribution({ prefix: false }).addTo(map);
}

// Counties (and the city outline) and roads; returns the boundary layer. With `labels`,
// county names sit on the map, and township and village names of the registry appear
// in view as one zooms in (townships from zoom 11, villages from 13).
export async function drawBase(map, { areaCode = null, labels = false } = {}) {
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
  if (labels && boundaries) {
    for (const f of boundaries.features) {
      if (f.properties.level === "city") continue;
      const centre = L.geoJSON(f).getBounds().getCenter();
      const label = L.tooltip({ permanent: true, direction: "center", className: "area-label county-label", interactive: false })
        .setLatLng(centre).setContent(esc(areaName(f.properties))).addTo(map);
      map.on("chargenet:relabel", () => label.setContent(esc(areaName(f.properties))));
    }
  }
  if (labels) placeNames(map);
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

const NAMES_FROM = { township: 11, village: 13 };
const MAX_NAMES = 150;

function placeNames(map) {
  const layer = L.layerGroup().addTo(map);
  const loaded = {};
  async function load(level) {
    loaded[level] ??= get("/api/v1/areas", { level, limit: 1000 }).catch(() => []);
    return loaded[level];
  }
  async function update() {
    const zoom = map.getZoom();
    const view = map.getBounds();
    const shown = [];
    for (const [level, from] of Object.entries(NAMES_FROM)) {
      if (zoom < from) continue;
      for (const a of await load(level)) {
        if (a.lat !== null && a.lon !== null && view.contains([a.lat, a.lon])) shown.push(a);
        if (shown.length >= MAX_NAMES) break;
      }
    }
    layer.clearLayers();
    for (const a of shown) {
      L.tooltip({ permanent: true, direction: "center", className: `area-label ${a.level}-label`, interactive: false })
        .setLatLng([a.lat, a.lon]).setContent(esc(areaName(a))).addTo(layer);
    }
  }
  map.on("moveend", update);
  map.on("chargenet:relabel", update);
}
