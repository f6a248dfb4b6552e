// The public finder: nearest stations with a connector that suits, live.
import { get } from "./api.js";
import { header } from "./chrome.js";
import { km, kw, lang, num, t, translatePage } from "./i18n.js";
import { blankMap, drawBase, STATE_COLOURS } from "./maps.js";
import { esc, html, render as show } from "./html.js";

const L = window.L;
const map = blankMap(document.getElementById("map"));
const markers = L.layerGroup().addTo(map);
let here = { lat: 38.4165, lon: 112.734 }; // Xinzhou city centre until the user picks a place
let hereMarker = null;
let last = [];
window.chargenet = { map, markers };

function stationName(s) { return lang() === "en" ? (s.name_en || s.name) : s.name; }
function statusBadge(status) { return html`<span class="badge s-${status}">${t("status_" + status)}</span>`; }
function price(p) { return p ? `${num(Number(p.per_kwh), 2)} ${t("per_kwh")}` : t("unknown"); }
function stateOf(s) {
  if (s.available) return "available";
  const busy = s.status.charging + s.status.occupied + s.status.reserved + s.status.blocked;
  if (busy) return "busy";
  return s.status.offline === s.total ? "offline" : "faulted";
}

async function search() {
  const form = new FormData(document.getElementById("filters"));
  const params = {
    lat: here.lat, lon: here.lon, limit: 15, radius_km: 100,
    available: form.get("available") ? "true" : "", dc: form.get("dc") ? "true" : "",
    min_power_kw: form.get("min_power_kw") || "", operator: form.get("operator") || "",
  };
  document.getElementById("where").textContent =
    `${t("near")} ${num(here.lat, 4)}, ${num(here.lon, 4)} · ${t("click_map")}`;
  last = await get("/api/v1/finder/nearest", params);
  render();
}

function render() {
  const list = document.getElementById("results");
  markers.clearLayers();
  if (!last.length) { show(list, html`<p class="muted">${t("no_results")}</p>`); return; }
  show(list, html`${last.map((s, i) => html`
    <div class="result" data-station="${s.station_id}" data-index="${i}">
      <h3>${i + 1}. ${stationName(s)}</h3>
      <div class="meta">
        <span>${t("distance")} ${km(s.distance_m)}</span>
        <span><b>${s.available}</b>${t("of")}${s.total} ${t("free")}</span>
        <span>${kw(s.max_power_w)}</span>
        <span>${t("price")} ${price(s.price)}</span>
      </div>
      <div class="meta">${s.operator_name ?? s.operator_id}</div>
    </div>`)}`);
  for (const el of list.querySelectorAll(".result")) {
    el.addEventListener("click", () => showStation(el.dataset.station));
  }
  for (const s of last) {
    L.circleMarker([s.lat, s.lon], {
      radius: 8, color: "#fff", weight: 1.5, fillColor: STATE_COLOURS[stateOf(s)], fillOpacity: 0.95,
    }).bindTooltip(esc(stationName(s))).on("click", () => showStation(s.station_id)).addTo(markers);
  }
  map.fitBounds([[here.lat, here.lon], ...last.map((s) => [s.lat, s.lon])], { padding: [40, 40], maxZoom: 16 });
}

async function showStation(id) {
  const s = await get(`/api/v1/finder/stations/${encodeURIComponent(id)}`);
  const panel = document.getElementById("detail");
  document.getElementById("search").hidden = true;
  panel.hidden = false;
  show(panel, html`
    <button class="link" id="back">← ${t("back")}</button>
    <h2 id="detail-name">${stationName(s)}</h2>
    <dl>
      <dt>${t("operator")}</dt><dd>${s.operator_name ?? s.operator_id}</dd>
      <dt>${t("address")}</dt><dd>${s.address ?? "—"}</dd>
      <dt>${t("opening_hours")}</dt><dd>${s.opening_hours}</dd>
      <dt>${t("price")}</dt><dd>${price(s.price)}</dd>
      <dt>${t("free")}</dt><dd><b id="detail-free">${s.available}</b>${t("of")}${s.total}</dd>
    </dl>
    <h3>${t("connectors")}</h3>
    <table class="grid"><thead><tr><th>#</th><th>${t("type")}</th><th>${t("power")}</th><th>${t("state")}</th></tr></thead>
    <tbody>${s.connectors.map((c) => html`<tr data-connector="${c.connector_id}">
      <td>${c.connector_id.split("-").slice(-3).join("-")}</td>
      <td>${t(c.power_type)} · ${c.standard}</td><td class="n">${kw(c.max_power_w)}</td>
      <td>${statusBadge(c.status)}${c.stopped ? html` <span class="badge stop">${t("stopped_by_order")}</span>` : ""}</td></tr>`)}</tbody></table>`);
  panel.querySelector("#back").addEventListener("click", () => {
    panel.hidden = true;
    document.getElementById("search").hidden = false;
  });
  map.panTo([s.lat, s.lon]);
}

function moveTo(lat, lon) {
  here = { lat, lon };
  if (hereMarker) hereMarker.remove();
  hereMarker = L.circleMarker([lat, lon], { radius: 6, color: "#000", weight: 2, fillColor: "#ffd400", fillOpacity: 1 })
    .addTo(map);
  search();
}

async function operators() {
  const select = document.getElementById("f-operator");
  const rows = await get("/api/v1/operators", { limit: 1000 });
  for (const op of rows) {
    const option = document.createElement("option");
    option.value = op.operator_id;
    option.textContent = lang() === "en" ? (op.name_en || op.name) : op.name;
    select.append(option);
  }
}

await header("finder", () => { render(); translatePage(); search(); });
await drawBase(map);
map.setView([here.lat, here.lon], 12);
map.on("click", (e) => moveTo(e.latlng.lat, e.latlng.lng));
document.getElementById("filters").addEventListener("submit", (e) => { e.preventDefault(); search(); });
document.getElementById("locate").addEventListener("click", () => {
  navigator.geolocation?.getCurrentPosition((p) => moveTo(p.coords.latitude, p.coords.longitude));
});
await operators();
moveTo(here.lat, here.lon);
