// The regulator dashboard. Panels fed by other parts of chargenet (supervision, planning)
// call the endpoints in PLUGGED and show "not available" while those are absent.
import { get, optional, rowsOf } from "./api.js";
import { header } from "./chrome.js";
import { areaName, kw, lang, num, t, translatePage, when } from "./i18n.js";
import { blankMap, drawBase, mapLayers, STATE_COLOURS } from "./maps.js";

export const PLUGGED = {
  uptime: "/api/v1/supervision/uptime",          // ?area= → {uptime_percent}
  zombies: "/api/v1/supervision/zombies",        // ?area= → [{...}] or {items, total}
  scorecards: "/api/v1/supervision/scorecards",  // ?area= → [{operator_id, name, stars, uptime_percent, ...}]
  gaps: "/api/v1/planning/gaps",                 // ?area= → GeoJSON FeatureCollection or [{lat, lon, rule, ...}]
  progress: "/api/v1/planning/progress",         // ?area=&month=YYYY-MM → [{code, name_zh, ...}]
};
const REFRESH_MS = 15000;
const STATUS_COLOURS = {
  available: "#1a9850", charging: "#2c7fb8", occupied: "#74a9cf", reserved: "#a6bddb",
  blocked: "#fdae61", unavailable: "#f46d43", faulted: "#d73027", offline: "#8c8c8c",
};
const L = window.L;
const echarts = window.echarts;
const state = { me: null, area: null, overview: null, plan: null, year: null, list: "alarms", lists: {},
  external: {}, mapData: null };
const ui = {};
window.chargenet = { state, ui, PLUGGED };

// --- helpers ------------------------------------------------------------------------------
const NA = () => `<span class="na">${t("not_available")}</span>`;
const COLUMN_SKIP = new Set(["target_kind", "acknowledged_by", "clear_reason", "parameters", "detail",
  "county_code", "operator_id_1", "station_id", "alarm_id", "order_id", "issued_by", "cleared_at",
  "acknowledged_at", "level"]);

function cell(key, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return num(value, Number.isInteger(value) ? 0 : 1);
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) return when(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);
}

function table(rows, prefer = []) {
  if (rows === null) return NA();
  if (!rows.length) return `<p class="muted">${t("none")}</p>`;
  const keys = [...new Set([...prefer.filter((k) => k in rows[0]), ...Object.keys(rows[0])])]
    .filter((k) => !COLUMN_SKIP.has(k) && typeof rows[0][k] !== "object").slice(0, 7);
  const head = keys.map((k) => `<th>${t(k)}</th>`).join("");
  const body = rows.map((r) => `<tr>${keys.map((k) =>
    `<td class="${typeof r[k] === "number" ? "n" : ""}">${cell(k, r[k])}</td>`).join("")}</tr>`).join("");
  return `<table class="grid"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function card(key, value, id) {
  return `<div class="card" id="card-${id ?? key}"><div class="k">${t(key)}</div><div class="v">${value}</div></div>`;
}

// --- panels -------------------------------------------------------------------------------
async function loadOverview() {
  const [overview, uptime, zombies] = await Promise.all([
    get("/api/v1/dashboard/overview", { area: state.area }),
    optional(PLUGGED.uptime, { area: state.area }),
    optional(PLUGGED.zombies, { area: state.area }),
  ]);
  state.overview = overview;
  state.external.uptime = uptime;
  state.external.zombies = zombies;
  renderOverview();
}

function renderOverview() {
  const o = state.overview;
  const usable = o.status.available + o.status.charging + o.status.occupied + o.status.reserved;
  const uptime = state.external.uptime;
  const uptimeValue = uptime?.uptime_percent ?? uptime?.uptime;
  const zombieRows = rowsOf(state.external.zombies);
  const zombieCount = state.external.zombies?.total ?? zombieRows?.length;
  document.getElementById("cards").innerHTML = [
    card("piles", num(o.piles.total)),
    card("public_piles", num(o.piles.public)),
    card("fast_piles", num(o.piles.fast)),
    card("stations", num(o.stations)),
    card("evs", num(o.ev_count) + (o.ev_year ? `<small class="muted"> (${o.ev_year})</small>` : "")),
    card("ev_per_public_pile", o.ev_per_public_pile === null ? "—" : `${num(o.ev_per_public_pile, 1)} : 1`),
    card("availability", o.connectors ? `${num((100 * usable) / o.connectors, 1)}%` : "—"),
    card("uptime", uptimeValue === undefined ? NA() : `${num(uptimeValue, 1)}%`),
    card("open_alarms", num(o.open_alarms)),
    card("open_orders", num(o.open_orders)),
    card("zombies", zombieCount === undefined ? NA() : num(zombieCount)),
  ].join("");
  document.getElementById("as-of").textContent = `${t("as_of")} ${when(new Date().toISOString())}`;
  const statusKeys = Object.keys(o.status).filter((k) => o.status[k] > 0);
  ui.statusChart.setOption({
    tooltip: { trigger: "item" },
    legend: { bottom: 0, type: "scroll" },
    series: [{
      type: "pie", radius: ["40%", "68%"], center: ["50%", "42%"],
      data: statusKeys.map((k) => ({
        name: t("status_" + k), value: o.status[k], key: k, itemStyle: { color: STATUS_COLOURS[k] },
      })),
      label: { formatter: (p) => `${p.name}\n${num(p.value)}` },
    }],
  }, true);
}

async function loadMap() {
  state.mapData = await get("/api/v1/dashboard/map", { area: state.area });
  renderMap();
}

function renderMap() {
  ui.stations.clearLayers();
  ui.markers = {};
  for (const [id, lat, lon, st, available, total, name, nameEn] of state.mapData.stations) {
    const marker = L.circleMarker([lat, lon], {
      radius: 4.5, weight: 0.8, color: "#fff", fillColor: STATE_COLOURS[st], fillOpacity: 0.9,
    }).bindTooltip(`${lang() === "en" ? nameEn || name : name} · ${available}/${total}`)
      .on("click", () => showStation(id));
    marker.addTo(ui.stations);
    ui.markers[id] = marker;
  }
  document.getElementById("legend").innerHTML = Object.entries(state.mapData.states).map(([k, n]) =>
    `<span><i style="background:${STATE_COLOURS[k]}"></i>${t("state_" + k)} ${num(n)}</span>`).join("")
    + `<span><i style="background:#e08a00;border-radius:0;height:3px"></i>${t("roads")}</span>`;
}

async function showStation(id) {
  const s = await get(`/api/v1/finder/stations/${encodeURIComponent(id)}`);
  const panel = document.getElementById("station-panel");
  panel.classList.remove("muted");
  panel.innerHTML = `<h3 id="station-name">${lang() === "en" ? s.name_en || s.name : s.name}</h3>
    <p>${s.operator_name ?? s.operator_id} · ${s.address ?? ""}</p>
    <p><b id="station-free">${s.available}</b>/${s.total} ${t("free")} · ${kw(s.max_power_w)}</p>
    <table class="grid"><tbody>${s.connectors.map((c) => `<tr><td>${c.connector_id}</td>
      <td>${kw(c.max_power_w)}</td><td><span class="badge s-${c.status}">${t("status_" + c.status)}</span></td></tr>`)
      .join("")}</tbody></table>`;
}

async function loadGaps() {
  const body = await optional(PLUGGED.gaps, { area: state.area });
  state.external.gaps = body;
  ui.gaps.clearLayers();
  const note = document.getElementById("gaps-note");
  if (body === null) { note.innerHTML = NA(); return; }
  note.textContent = "";
  const style = { radius: 9, color: "#b10026", weight: 2, dashArray: "3 3", fill: false };
  if (body.type === "FeatureCollection") {
    L.geoJSON(body, {
      pointToLayer: (_, latlng) => L.circleMarker(latlng, style),
      style: () => ({ color: "#b10026", weight: 2, dashArray: "4 4" }),
      onEachFeature: (f, layer) => layer.bindTooltip(f.properties?.rule ?? f.properties?.name ?? ""),
    }).addTo(ui.gaps);
  } else {
    for (const gap of rowsOf(body) ?? []) {
      if (gap.lat === undefined || gap.lon === undefined) continue;
      L.circleMarker([gap.lat, gap.lon], style).bindTooltip(gap.rule ?? gap.name ?? "").addTo(ui.gaps);
    }
  }
}

async function loadPlan() {
  state.plan = await get("/api/v1/dashboard/plan", { area: state.area });
  const select = document.getElementById("plan-year");
  const years = state.plan.years;
  if (!years.includes(state.year)) {
    const thisYear = new Date().getFullYear();
    state.year = [...years].reverse().find((y) => y <= thisYear) ?? years.at(-1) ?? null;
  }
  select.innerHTML = years.map((y) => `<option ${y === state.year ? "selected" : ""}>${y}</option>`).join("");
  renderPlan();
}

function renderPlan() {
  const plan = state.plan;
  const note = document.getElementById("plan-note");
  if (!plan.metric) { ui.planChart.clear(); note.innerHTML = NA(); return; }
  note.textContent = `${t(plan.counts === "public" ? "new_piles_metric_public" : "new_piles_metric_total")} · ${t("years_note")}`;
  const y = String(state.year);
  const rows = plan.rows;
  ui.planChart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: [t("target"), t("actual")], top: 0 },
    grid: { left: 50, right: 20, top: 30, bottom: 70 },
    xAxis: { type: "category", data: rows.map((r) => areaName(r)), axisLabel: { rotate: 35, interval: 0 } },
    yAxis: { type: "value", axisLabel: { formatter: (v) => num(v) } },
    series: [
      { name: t("target"), type: "bar", data: rows.map((r) => r.target[y] ?? null), itemStyle: { color: "#bdbdbd" },
        label: { show: true, position: "top", fontSize: 10, formatter: (p) => num(p.value) } },
      { name: t("actual"), type: "bar", data: rows.map((r) => r.actual[y] ?? null), itemStyle: { color: "#0b5cab" },
        label: { show: true, position: "top", fontSize: 10, formatter: (p) => num(p.value) } },
    ],
  }, true);
}

async function loadLists() {
  const [alarms, orders] = await Promise.all([
    get("/api/v1/dashboard/alarms", { area: state.area }),
    get("/api/v1/dashboard/orders", { area: state.area }),
  ]);
  state.lists = { alarms, orders, zombies: rowsOf(state.external.zombies) };
  renderList();
}

function renderList() {
  const prefer = {
    alarms: ["raised_at", "severity", "code", "station_name", "message"],
    orders: ["issued_at", "kind", "target_id", "station_name", "reason", "outcome"],
    zombies: ["station_id", "connector_id", "rule", "since", "state"],
  }[state.list];
  document.getElementById("list").innerHTML = table(state.lists[state.list] ?? null, prefer);
  for (const b of document.querySelectorAll("#list-tabs button")) b.classList.toggle("on", b.dataset.list === state.list);
}

async function loadScorecards() {
  const body = await optional(PLUGGED.scorecards, { area: state.area });
  state.external.scorecards = rowsOf(body);
  renderScorecards();
}

function renderScorecards() {
  document.getElementById("scorecards").innerHTML =
    table(state.external.scorecards ?? null, ["rank", "name", "operator_id", "stars", "uptime_percent"]);
}

async function loadProgress() {
  const month = document.getElementById("report-month").value;
  const body = await optional(PLUGGED.progress, { area: state.area, month });
  state.external.progress = rowsOf(body);
  document.getElementById("progress").innerHTML = table(state.external.progress ?? null, ["name_zh", "code"]);
}

function reportLinks() {
  const month = document.getElementById("report-month").value;
  const q = `area=${encodeURIComponent(state.area)}&month=${encodeURIComponent(month)}`;
  document.getElementById("report-xlsx").href = `/api/v1/reports/monthly?${q}&format=xlsx`;
  document.getElementById("report-html").href = `/api/v1/reports/monthly?${q}&format=html`;
}

// --- the page -----------------------------------------------------------------------------
async function areas() {
  const me = state.me;
  const base = me.area_code
    ? [await get(`/api/v1/areas/${me.area_code}`)]
    : await get("/api/v1/areas", { level: "city", limit: 1000 });
  const options = [];
  for (const area of base) {
    options.push(area);
    if (area.level === "city" && (me.area_code || base.length < 3)) {
      const children = await get("/api/v1/areas", { parent: area.code, limit: 1000 });
      options.push(...children.map((c) => ({ ...c, child: true })));
    }
  }
  ui.areas = options;
  renderAreas();
}

function renderAreas() {
  const select = document.getElementById("area");
  select.innerHTML = ui.areas.map((a) => `<option value="${a.code}" ${a.code === state.area ? "selected" : ""}>` +
    `${a.child ? "— " : ""}${areaName(a)}</option>`).join("");
}

async function loadAll() {
  await loadOverview();
  await Promise.all([loadMap(), loadPlan(), loadLists(), loadScorecards(), loadGaps(), loadProgress()]);
  const boundaries = (await mapLayers()).boundaries;
  const outline = boundaries?.features.filter((f) => f.properties.code === state.area) ?? [];
  if (outline.length) ui.map.fitBounds(L.geoJSON(outline).getBounds(), { padding: [10, 10] });
  else if (state.mapData.stations.length) ui.map.fitBounds(state.mapData.stations.map((s) => [s[1], s[2]]));
  reportLinks();
  document.body.dataset.ready = "1";
}

function relabel() {
  translatePage();
  renderAreas();
  renderOverview();
  renderMap();
  renderPlan();
  renderList();
  renderScorecards();
}

state.me = await header("dashboard", relabel);
if (!state.me) {
  location.href = "/login?next=/dashboard";
} else if (!["regulator", "admin"].includes(state.me.role)) {
  const refused = document.getElementById("refused");
  refused.hidden = false;
  refused.textContent = t("wrong_role");
} else {
  document.getElementById("dash").hidden = false;
  ui.map = blankMap(document.getElementById("dash-map"));
  ui.base = await drawBase(ui.map, { areaCode: state.me.area_code });
  ui.gaps = L.layerGroup().addTo(ui.map);
  ui.stations = L.layerGroup().addTo(ui.map);
  ui.statusChart = echarts.init(document.getElementById("status-chart"));
  ui.planChart = echarts.init(document.getElementById("plan-chart"));
  window.addEventListener("resize", () => { ui.statusChart.resize(); ui.planChart.resize(); });
  const lastMonth = new Date(); lastMonth.setDate(0);
  document.getElementById("report-month").value = lastMonth.toISOString().slice(0, 7);
  document.getElementById("report-month").addEventListener("change", () => { reportLinks(); loadProgress(); });
  document.getElementById("plan-year").addEventListener("change", (e) => { state.year = Number(e.target.value); renderPlan(); });
  document.getElementById("show-gaps").addEventListener("change", (e) =>
    e.target.checked ? ui.gaps.addTo(ui.map) : ui.gaps.remove());
  for (const b of document.querySelectorAll("#list-tabs button")) {
    b.addEventListener("click", () => { state.list = b.dataset.list; renderList(); });
  }
  state.area = new URLSearchParams(location.search).get("area") || state.me.area_code || "140900";
  await areas();
  document.getElementById("area").addEventListener("change", async (e) => {
    state.area = e.target.value;
    document.body.dataset.ready = "";
    await loadAll();
  });
  await loadAll();
  setInterval(async () => { await loadOverview(); await loadMap(); }, REFRESH_MS);
}
