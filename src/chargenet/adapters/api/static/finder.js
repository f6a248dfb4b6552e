// The public finder: nearest stations with a connector that suits, live; place search over
// the registry (areas, station names and addresses); a station's facts a driver decides by
// and a hand-off to the navigation apps drivers in China use (GCJ-02 coordinates).
import { get } from "./api.js";
import { header } from "./chrome.js";
import { km, kw, lang, num, t, translatePage, zoneName } from "./i18n.js";
import { blankMap, drawBase, STATE_COLOURS } from "./maps.js";
import { esc, html, render as show } from "./html.js";

const L = window.L;
const map = blankMap(document.getElementById("map"));
const markers = L.layerGroup().addTo(map);
let here = { lat: 38.4165, lon: 112.734 }; // Xinzhou city centre until the user picks a place
let hereMarker = null;
let last = [];
let current = null; // the station shown in the detail panel
// Answers can arrive out of order (a second search or click before the first has
// answered): each view keeps the answer to the newest question and drops later-arriving
// answers to older ones, so what is on screen is what was asked last.
const asked = {};
function ask(view) {
  const n = (asked[view] = (asked[view] ?? 0) + 1);
  return () => asked[view] === n;
}
window.chargenet = { map, markers };

const phone = () => window.matchMedia("(max-width: 700px)").matches;
function stationName(s) { return lang() === "en" ? (s.name_en || s.name) : s.name; }
function operatorName(s) {
  return (lang() === "en" ? s.operator_name_en || s.operator_name : s.operator_name) ?? s.operator_id;
}
function statusBadge(status) { return html`<span class="badge s-${status}">${t("status_" + status)}</span>`; }
function price(p) { return p ? `${num(Number(p.per_kwh), 2)} ${t("per_kwh")}` : t("unknown"); }
// The parking fee as published: a price per hour (OCPI tariff) or the operator's words
// (T/CEC ParkFee); none published is "unknown", never "free".
function parkingFee(p) {
  if (!p) return t("unknown");
  return p.per_hour != null ? `${num(Number(p.per_hour), 2)} ${t("per_hour")}` : p.text;
}
function stateOf(s) {
  if (s.available) return "available";
  const busy = s.status.charging + s.status.occupied + s.status.reserved + s.status.blocked;
  if (busy) return "busy";
  return s.status.offline === s.total ? "offline" : "faulted";
}
// A connector's standard in plain words: 国标直流 (GB/T DC), 欧标 CCS2 …
function plug(c) { return t("plug_" + c.standard) === "plug_" + c.standard ? c.standard : t("plug_" + c.standard); }

// Open now, by the station's opening hours ("24/7" or "07:00-22:00[,…]") in the platform's zone.
export function openNow(hours, at = new Date()) {
  if (!hours || hours === "24/7") return true;
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zoneName(), hour: "2-digit", minute: "2-digit", hour12: false,
  }).formatToParts(at);
  const hh = Number(parts.find((p) => p.type === "hour").value) % 24;
  const mm = Number(parts.find((p) => p.type === "minute").value);
  const now = hh * 60 + mm;
  return hours.split(",").some((range) => {
    const [from, to] = range.trim().split("-").map((x) => { const [h, m] = x.split(":").map(Number); return h * 60 + m; });
    return from <= to ? now >= from && now < to : now >= from || now < to;
  });
}

// --- view on a phone: list or map ------------------------------------------------------------
function setView(view) {
  document.body.classList.toggle("view-map", view === "map");
  document.body.classList.toggle("view-list", view !== "map");
  for (const b of document.querySelectorAll("#viewtoggle button")) {
    b.setAttribute("aria-pressed", String(b.dataset.view === view));
  }
  setTimeout(() => map.invalidateSize(), 0);
}
for (const b of document.querySelectorAll("#viewtoggle button")) {
  b.addEventListener("click", () => setView(b.dataset.view));
}

// --- nearest stations ------------------------------------------------------------------------
async function search() {
  const form = new FormData(document.getElementById("filters"));
  const params = {
    lat: here.lat, lon: here.lon, limit: 15, radius_km: 100,
    available: form.get("available") ? "true" : "", dc: form.get("dc") ? "true" : "",
    open_now: form.get("open_now") ? "true" : "",
    min_power_kw: form.get("min_power_kw") || "", operator: form.get("operator") || "",
  };
  document.getElementById("where").textContent =
    `${here.label ?? `${t("near")} ${num(here.lat, 4)}, ${num(here.lon, 4)}`} · ${t("click_map")}`;
  const newest = ask("results");
  const found = await get("/api/v1/finder/nearest", params);
  if (!newest()) return;
  last = found;
  render();
}

// When an institution's own station is open to the public (R39), in the reader's language.
function publicHours(s) { return s.public_hours_label[lang() === "en" ? "en" : "zh"]; }

// Free fast (DC) and slow (AC) connectors, each kind the station has.
function facts(s) {
  return html`${s.fast_total ? html`<span class="fact"><b>${s.fast_free}</b>/${s.fast_total} ${t("fast_free")}</span>` : ""}
    ${s.slow_total ? html`<span class="fact"><b>${s.slow_free}</b>/${s.slow_total} ${t("slow_free")}</span>` : ""}`;
}

function render() {
  const list = document.getElementById("results");
  markers.clearLayers();
  if (!last.length) { show(list, html`<p class="muted">${t("no_results")}</p>`); return; }
  show(list, html`${last.map((s, i) => html`
    <article class="result" tabindex="0" role="button" data-station="${s.station_id}" data-index="${i}">
      <h3>${i + 1}. ${stationName(s)}</h3>
      <div class="meta">
        <span>${t("distance")} ${km(s.distance_m)}</span>
        ${facts(s)}
        <span>${kw(s.max_power_w)}</span>
        <span>${t("price")} ${price(s.price)}</span>
      </div>
      <div class="meta">${operatorName(s)}</div>
      ${s.public_hours_label ? html`<div class="meta public-hours">${publicHours(s)}${s.open_now ? "" : html` · <span class="badge closed">${t("closed_now")}</span>`}</div>` : ""}
    </article>`)}`);
  for (const el of list.querySelectorAll(".result")) {
    el.addEventListener("click", () => showStation(el.dataset.station));
    el.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); showStation(el.dataset.station); }
    });
  }
  for (const s of last) {
    L.circleMarker([s.lat, s.lon], {
      radius: 8, color: "#fff", weight: 1.5, fillColor: STATE_COLOURS[stateOf(s)], fillOpacity: 0.95,
    }).bindTooltip(esc(stationName(s))).on("click", () => showStation(s.station_id)).addTo(markers);
  }
  map.fitBounds([[here.lat, here.lon], ...last.map((s) => [s.lat, s.lon])], { padding: [40, 40], maxZoom: 16 });
}

// --- navigation hand-off ---------------------------------------------------------------------
// Chinese map apps take GCJ-02 positions (the API gives them beside WGS-84).
export function navigationLinks(s) {
  const { lat, lon } = s.gcj02;
  const name = stationName(s);
  const amap = new URL("https://uri.amap.com/navigation");
  amap.search = new URLSearchParams({
    to: `${lon},${lat},${name}`, mode: "car", coordinate: "gaode", callnative: "1", src: "chargenet",
  }).toString();
  const baidu = new URL("https://api.map.baidu.com/direction");
  baidu.search = new URLSearchParams({
    destination: `latlng:${lat},${lon}|name:${name}`, coord_type: "gcj02", mode: "driving",
    output: "html", src: "chargenet", region: "",
  }).toString();
  const apple = new URL("https://maps.apple.com/");
  apple.search = new URLSearchParams({ daddr: `${lat},${lon}`, q: name, dirflg: "d" }).toString();
  return { amap: amap.href, baidu: baidu.href, apple: apple.href };
}

async function showStation(id) {
  const newest = ask("station");
  const s = await get(`/api/v1/finder/stations/${encodeURIComponent(id)}`);
  if (!newest()) return;
  current = s;
  const panel = document.getElementById("detail");
  document.getElementById("search").hidden = true;
  panel.hidden = false;
  const nav = navigationLinks(s);
  // Open now: within its opening hours and, where it states them, its public hours (the
  // server decides those in the platform's local time).
  const open = openNow(s.opening_hours) && s.open_now !== false;
  const source = s.price ? t("price_source_" + s.price.source) : "";
  show(panel, html`
    <button class="link" id="back" type="button">← ${t("back")}</button>
    <h2 id="detail-name">${stationName(s)}</h2>
    <p class="facts-line">
      <span class="badge ${open ? "ok" : "closed"}" id="open-now">${open ? t("open_now") : t("closed_now")}</span>
      <span id="fast-free"><b>${s.fast_free}</b>/${s.fast_total} ${t("fast_free")}</span>
      <span id="slow-free"><b>${s.slow_free}</b>/${s.slow_total} ${t("slow_free")}</span>
    </p>
    <div class="navlinks" id="navigate" role="group" aria-label="${t("navigate")}">
      <a class="navbtn" id="nav-amap" href="${nav.amap}" target="_blank" rel="noopener">${t("nav_amap")}</a>
      <a class="navbtn" id="nav-baidu" href="${nav.baidu}" target="_blank" rel="noopener">${t("nav_baidu")}</a>
      <a class="navbtn" id="nav-apple" href="${nav.apple}" target="_blank" rel="noopener">${t("nav_apple")}</a>
      ${s.service_phone ? html`<a class="navbtn" id="nav-phone" href="tel:${s.service_phone.replace(/[^\d+]/g, "")}">☎ ${s.service_phone}</a>` : ""}
    </div>
    <dl>
      <dt>${t("operator")}</dt><dd id="detail-operator">${operatorName(s)}</dd>
      <dt>${t("address")}</dt><dd>${s.address ?? "—"}</dd>
      <dt>${t("opening_hours")}</dt><dd>${s.opening_hours === "24/7" ? t("all_day") : s.opening_hours}</dd>
      ${s.public_hours_label ? html`<dt>${t("public_hours")}</dt><dd id="public-hours">${publicHours(s)}</dd>` : ""}
      <dt>${t("price")}</dt><dd id="detail-price">${price(s.price)}${s.price ? html`
        <div class="muted small" id="price-source">${source}</div>` : ""}
        <div class="muted small">${t("no_time_of_day")}</div></dd>
      <dt>${t("parking_fee")}</dt><dd id="detail-parking">${parkingFee(s.parking)}${s.parking ? html`
        <div class="muted small" id="parking-source">${t("parking_source_" + s.parking.source)}</div>` : ""}</dd>
      <dt>${t("free")}</dt><dd><b id="detail-free">${s.available}</b>${t("of")}${s.total}</dd>
    </dl>
    <h3>${t("connectors")}</h3>
    <table class="grid"><thead><tr><th scope="col">#</th><th scope="col">${t("type")}</th>
      <th scope="col" class="n">${t("power")}</th><th scope="col">${t("state")}</th></tr></thead>
    <tbody>${s.connectors.map((c) => html`<tr data-connector="${c.connector_id}">
      <td>${c.connector_id.split("-").slice(-3).join("-")}</td>
      <td>${plug(c)}</td><td class="n">${kw(c.max_power_w)}</td>
      <td>${statusBadge(c.status)}${c.stopped ? html` <span class="badge stop">${t("stopped_by_order")}</span>` : ""}</td></tr>`)}</tbody></table>`);
  panel.querySelector("#back").addEventListener("click", () => {
    ask("station"); // a station still loading must not reopen the panel
    current = null;
    panel.hidden = true;
    document.getElementById("search").hidden = false;
  });
  if (phone()) setView("list");
  panel.querySelector("#back").focus();
  map.panTo([s.lat, s.lon]);
}

// --- place search ----------------------------------------------------------------------------
async function findPlaces(text) {
  const box = document.getElementById("place-results");
  const input = document.getElementById("place");
  const newest = ask("places");
  if (!text.trim()) { box.hidden = true; input.setAttribute("aria-expanded", "false"); return; }
  const found = await get("/api/v1/finder/places", { q: text.trim(), limit: 6 });
  if (!newest()) return;
  const areas = found.areas.filter((a) => a.lat !== null && a.lon !== null);
  const items = [
    ...areas.map((a) => ({ kind: "area", label: lang() === "en" ? a.name_en || a.name_zh : a.name_zh, sub: t("level_" + a.level), lat: a.lat, lon: a.lon })),
    ...found.stations.map((s) => ({ kind: "station", id: s.station_id, label: stationName(s), sub: s.address ?? "", lat: s.lat, lon: s.lon })),
  ];
  if (!items.length) {
    show(box, html`<li class="muted">${t("no_places")}</li>`);
  } else {
    show(box, html`${items.map((it, i) => html`<li role="option" aria-selected="false"><button type="button" class="place-item"
      data-i="${i}"><b>${it.label}</b> <span class="muted small">${it.sub}</span></button></li>`)}`);
    for (const b of box.querySelectorAll("button.place-item")) {
      b.addEventListener("click", () => {
        const it = items[Number(b.dataset.i)];
        box.hidden = true;
        input.setAttribute("aria-expanded", "false");
        input.value = it.label;
        moveTo(it.lat, it.lon, it.label);
        if (it.kind === "station") showStation(it.id);
      });
    }
  }
  box.hidden = false;
  input.setAttribute("aria-expanded", "true");
}

let typing = null;
document.getElementById("place").addEventListener("input", (e) => {
  clearTimeout(typing);
  typing = setTimeout(() => findPlaces(e.target.value), 250);
});
document.getElementById("place-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  await findPlaces(document.getElementById("place").value);
  document.querySelector("#place-results button")?.focus();
});

function moveTo(lat, lon, label = null) {
  here = { lat, lon, label };
  if (hereMarker) hereMarker.remove();
  hereMarker = L.circleMarker([lat, lon], { radius: 6, color: "#000", weight: 2, fillColor: "#ffd400", fillOpacity: 1 })
    .addTo(map);
  return search();
}

async function operators() {
  const select = document.getElementById("f-operator");
  const rows = await get("/api/v1/operators", { limit: 1000 });
  select.replaceChildren(select.options[0]);
  for (const op of rows) {
    const option = document.createElement("option");
    option.value = op.operator_id;
    option.dataset.zh = op.name;
    option.dataset.en = op.name_en || op.name;
    option.textContent = lang() === "en" ? option.dataset.en : option.dataset.zh;
    select.append(option);
  }
}

function relabel() {
  translatePage();
  for (const option of document.querySelectorAll("#f-operator option[data-zh]")) {
    option.textContent = lang() === "en" ? option.dataset.en : option.dataset.zh;
  }
  render();
  map.fire("chargenet:relabel");
  if (current) showStation(current.station_id);
}

translatePage();
if (phone()) document.getElementById("filters-box").open = false;
await header("finder", relabel);
await drawBase(map, { labels: true });
map.setView([here.lat, here.lon], 12);
map.on("click", (e) => moveTo(e.latlng.lat, e.latlng.lng));
document.getElementById("filters").addEventListener("submit", (e) => { e.preventDefault(); search(); });
document.getElementById("locate").addEventListener("click", () => {
  navigator.geolocation?.getCurrentPosition((p) => moveTo(p.coords.latitude, p.coords.longitude, t("my_location")));
});
await operators();
await moveTo(here.lat, here.lon);
document.body.dataset.ready = "1";
