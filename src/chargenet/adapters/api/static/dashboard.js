// The regulator dashboard: overview, live map with coverage gaps and where to build next,
// plan vs actual, alarms / stop orders / zombie piles with their actions, operator
// scorecards, orderly charging (orderly.js), planning progress and the monthly report, saved
// scenarios side by side (scenarios.js). Panels fed by supervision
// and planning call the endpoints in PLUGGED and say "not available" when one is
// absent or fails. docs/dashboard.md lists which panel reads what.
import { get, optional, optionalPage, postAction } from "./api.js";
import { header } from "./chrome.js";
import { esc, html, render } from "./html.js";
import { areaName, kw, lang, locale, num, t, translatePage, when } from "./i18n.js";
import { areaPrefix, blankMap, drawBase, mapLayers, STATE_COLOURS } from "./maps.js";
import { initOrderly, loadOrderly, renderOrderly } from "./orderly.js";
import { loadScenarios, renderScenarios } from "./scenarios.js";

export const PLUGGED = {
  uptime: "/api/v1/supervision/uptime",          // ?area=&by=all → [{nevi_uptime, uk_reliability, connectors, …}]
  zombies: "/api/v1/supervision/zombies",        // ?area=&limit= → [case …], X-Total-Count (open cases)
  scorecards: "/api/v1/supervision/scorecards",  // ?area= → [{rank, operator_id, score, stars, values, …}]
  alarms: "/api/v1/supervision/alarms",          // ?area= → open alarms, X-Total-Count; POST {id}/acknowledge, {id}/clear
  stopOrders: "/api/v1/supervision/stop-orders", // ?area=[&in_force_only=true] → [{stop_id, state, deliveries, …}]; POST; POST {id}/lift
  targets: "/api/v1/planning/targets",           // ?area= → plan-vs-actual rows, every target and year
  gaps: "/api/v1/planning/gaps",                 // ?area=&year=&limit= → {gaps: [{rule_id, kind, shortfalls: [{lat, lon, …}]}]}
  siting: "/api/v1/planning/siting",             // ?area=&year= → {sites: [{lat, lon, name, reasons, piles}], cover}
  progress: "/api/v1/planning/progress",         // ?area=&month=YYYY-MM → {units: […], region, due}
  trends: "/api/v1/dashboard/trends",            // ?area=&months= → {points: [{month, piles, ev_per_public_pile, nevi_uptime, valley_share, …}]}
};
const REFRESH_MS = 15000;
const NEW_PILE_METRICS = ["new_public_piles", "new_charging_piles"];
const STATUS_COLOURS = {
  available: "#1a9850", charging: "#2c7fb8", occupied: "#74a9cf", reserved: "#a6bddb",
  blocked: "#fdae61", unavailable: "#f46d43", faulted: "#d73027", offline: "#8c8c8c",
};
const PLAN_COLOURS = {
  met: "#1a9850", on_track: "#0b5cab", behind: "#f28e2b", missed: "#d73027",
  not_started: "#9e9e9e", no_data: "#9e9e9e",
};
// Coverage gaps drawn on the map, by rule kind (parking ratios are about existing sites).
const GAP_STYLES = {
  area_distance: { radius: 5, color: "#b10026", weight: 1.5, dashArray: "2 2", fill: false },
  zone_distance: { radius: 4, color: "#fd8d3c", weight: 1.5, fill: false },
  area_presence: { radius: 8, color: "#e31a1c", weight: 2.5, fill: false },
  area_minimum: { radius: 10, color: "#e31a1c", weight: 2.5, dashArray: "5 3", fill: false },
  road_spacing: { radius: 9, color: "#800026", weight: 3.5, fill: false },
};
const SITE_STYLE = { radius: 6, color: "#006d2c", weight: 2.5, fillColor: "#c7e9c0", fillOpacity: 1 };
const L = window.L;
const echarts = window.echarts;
const state = {
  me: null, area: null, overview: null, year: null, list: "alarms", lists: {}, totals: {},
  external: {}, mapData: null, operators: {}, parts: [], station: null, editing: false,
  awaiting: null, // {event, until}: an action's event the map is to show (loadMap)
};
const ui = {};
window.chargenet = { state, ui, PLUGGED };

// --- helpers ------------------------------------------------------------------------------
const NA = () => `<span class="na">${t("not_available")}</span>`;
const WAIT = () => `<span class="na loading">…</span>`;

// Answers can arrive out of order: the 15-second refresh asked before an action may answer
// after the action's own reload, a second click may answer before the first. `ask(view)`
// numbers a question; the check it returns is true for an answer unless the view already
// shows the answer to a newer question, so a late answer never paints over a newer one.
const asked = {};
const answered = {};
function ask(view) {
  const n = (asked[view] = (asked[view] ?? 0) + 1);
  return () => {
    if (n < (answered[view] ?? 0)) return false;
    answered[view] = n;
    return true;
  };
}
const thisYear = () => new Date().getFullYear();

// A word from the dictionary, or the value itself when the dictionary has none.
function word(prefix, key) {
  const k = `${prefix}_${key}`;
  const w = t(k);
  return w === k ? String(key) : w;
}

function pct(value, digits = 1) { return value === null || value === undefined ? "—" : `${num(value, digits)}%`; }

function stars(n) { return `<span class="stars" title="${n}">${"★".repeat(n)}${"☆".repeat(5 - n)}</span>`; }

// rows × columns [{label, cell(row) → html, n (right-aligned)}]; null rows: not available.
function grid(rows, columns, rowAttrs = () => "") {
  if (rows === null || rows === undefined) return NA();
  if (!rows.length) return `<p class="muted">${t("none")}</p>`;
  const cls = (c) => (c.n ? "n" : c.nw ? "nw" : "");
  const head = columns.map((c) => `<th class="${cls(c)}">${esc(t(c.label))}</th>`).join("");
  const body = rows.map((r) => `<tr ${rowAttrs(r)}>${columns.map((c) =>
    `<td class="${cls(c)}">${c.cell(r) ?? "—"}</td>`).join("")}</tr>`).join("");
  return `<table class="grid"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function card(key, value, id, sub = "") {
  return `<div class="card" id="card-${id ?? key}"><div class="k">${t(key)}</div>` +
    `<div class="v">${value}</div>${sub ? `<div class="sub">${sub}</div>` : ""}</div>`;
}

function operatorName(id) {
  const op = state.operators[id];
  if (!op) return esc(id);
  return esc(lang() === "en" ? op.name_en || op.name : op.name);
}

function partName(code) {
  const part = state.parts.find((p) => p.code === code) ?? ui.areas?.find((a) => a.code === code);
  return part ? areaName(part) : code;
}

// --- overview -----------------------------------------------------------------------------
async function loadOverview() {
  const fresh = ask("overview");
  const overview = await get("/api/v1/dashboard/overview", { area: state.area });
  if (fresh()) state.overview = overview;
}

async function loadUptime() {
  const fresh = ask("uptime");
  const rows = await optional(PLUGGED.uptime, { area: state.area, by: "all" });
  if (fresh()) state.external.uptime = rows === null ? null : rows[0] ?? {};
}

function renderOverview() {
  const o = state.overview;
  if (!o) return;
  const usable = o.status.available + o.status.charging + o.status.occupied + o.status.reserved;
  const uptime = state.external.uptime;
  const { alarms, inForce, zombies } = state.totals;
  document.getElementById("cards").innerHTML = [
    card("piles", num(o.piles.total)),
    card("public_piles", num(o.piles.public)),
    card("fast_piles", num(o.piles.fast)),
    card("stations", num(o.stations)),
    card("evs", num(o.ev_count) + (o.ev_year ? `<small class="muted"> (${o.ev_year})</small>` : "")),
    // Written the way the area's plan writes it: "1 : 4.8" where Xinzhou says "1:6".
    card("ev_per_public_pile", o.ev_per_public_pile === null ? "—" : esc(o.ev_per_public_pile_written)),
    card("availability", o.connectors ? pct((100 * usable) / o.connectors) : "—"),
    card("uptime", state.pending && uptime === undefined ? WAIT() : uptime === null || uptime === undefined ? NA() : pct(uptime.nevi_uptime), "uptime",
      uptime ? `${t("uptime_note")} · ${t("uptime_uk")} ${pct(uptime.uk_reliability)}` : ""),
    card("open_alarms", alarms === undefined ? num(o.open_alarms) : num(alarms)),
    card("stop_orders_in_force", inForce === undefined ? (state.pending ? WAIT() : NA()) : num(inForce), "stop_orders"),
    card("zombies", zombies === undefined ? (state.pending ? WAIT() : NA()) : num(zombies)),
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

// --- the live map and one station ---------------------------------------------------------
// The live index follows the event bus, a moment behind an action (seconds under load).
// After an order or its lifting the map is asked `after` the event the action answered
// with: the server answers once the index has applied it (or after its bound, saying
// `caught_up: false`). Every map question until then carries it, the 15-second refresh's
// too, so that a refresh answered first does not show the state before the action; an
// event the index never hears (lost by the bus) is given up after AWAIT_MS.
const AWAIT_MS = 60000;
async function loadMap() {
  const fresh = ask("map");
  const awaiting = state.awaiting && Date.now() < state.awaiting.until ? state.awaiting : null;
  const data = await get("/api/v1/dashboard/map", { area: state.area, after: awaiting?.event });
  if (awaiting && data.caught_up && state.awaiting === awaiting) state.awaiting = null;
  if (!fresh()) return;
  state.mapData = data;
  renderMap();
}

function renderMap() {
  ui.stations.clearLayers();
  ui.markers = {};
  for (const [id, lat, lon, st, available, total, name, nameEn] of state.mapData.stations) {
    const stopped = st === "stopped";
    const marker = L.circleMarker([lat, lon], {
      radius: stopped ? 7 : 4.5, weight: stopped ? 2 : 0.8, color: stopped ? "#000" : "#fff",
      fillColor: STATE_COLOURS[st], fillOpacity: 0.9,
    }).bindTooltip(`${esc(lang() === "en" ? nameEn || name : name)} · ${available}/${total} · ${t("state_" + st)}`)
      .on("click", () => showStation(id));
    marker.state = st;
    marker.addTo(ui.stations);
    ui.markers[id] = marker;
  }
  document.getElementById("legend").innerHTML = Object.entries(state.mapData.states).map(([k, n]) =>
    `<span data-state="${k}"><i style="background:${STATE_COLOURS[k]}"></i>${t("state_" + k)} ${num(n)}</span>`).join("")
    + `<span><i style="background:#e08a00;border-radius:0;height:3px"></i>${t("roads")}</span>`;
}

async function showStation(id) {
  state.station = id;
  const fresh = ask("panel");
  const s = await get(`/api/v1/finder/stations/${encodeURIComponent(id)}`);
  if (!fresh()) return;
  const chargers = [...new Set(s.connectors.map((c) => c.charger_id))];
  const orders = (state.lists.inForce ?? []).filter((o) => o.station_id === id);
  const panel = document.getElementById("station-panel");
  panel.classList.remove("muted");
  panel.innerHTML = `<h3 id="station-name">${esc(lang() === "en" ? s.name_en || s.name : s.name)}</h3>
    <p>${esc(s.operator_name ?? s.operator_id)} · ${esc(s.address ?? "")}</p>
    <p><b id="station-free">${s.available}</b>/${s.total} ${t("free")} · ${kw(s.max_power_w)}</p>
    <table class="grid"><tbody>${s.connectors.map((c) => `<tr data-connector="${esc(c.connector_id)}">
      <td>${esc(c.connector_id)}</td><td>${kw(c.max_power_w)}</td>
      <td><span class="badge s-${c.status}">${t("status_" + c.status)}</span>
      ${c.stopped ? `<span class="badge stop">${t("stopped_by_order")}</span>` : ""}</td></tr>`).join("")}</tbody></table>
    ${orders.length ? `<p class="orders-here">${orders.map((o) => `<span class="badge stop">${t("stopped_by_order")}</span>
      ${esc(o.target_kind === "station" ? t("whole_station") : o.target_id)} · ${esc(o.reason)}
      ${actions(o.stop_id, [button("lift", o.stop_id, "lift")])}`).join("<br>")}</p>` : ""}
    <div class="stopform">
      <select id="stop-target" aria-label="${t("stop_target")}">
        <option value="station:${esc(id)}">${t("whole_station")}</option>
        ${chargers.map((c) => `<option value="charger:${esc(c)}">${esc(c)}</option>`).join("")}</select>
      <input id="stop-reason" maxlength="1000" placeholder="${t("reason")}">
      <button id="stop-issue" type="button" class="danger">${t("issue_stop")}</button>
      <span id="stop-msg" class="muted"></span>
    </div>`;
  panel.querySelector("#stop-issue").addEventListener("click", issueStop);
}

async function issueStop() {
  const msg = document.getElementById("stop-msg");
  const reason = document.getElementById("stop-reason").value.trim();
  if (!reason) { msg.textContent = t("reason_required"); return; }
  const [kind, target] = document.getElementById("stop-target").value.split(/:(.*)/s);
  msg.textContent = t("sending");
  let event;
  try {
    const issued = await postAction(PLUGGED.stopOrders, { target_kind: kind, target_id: target, reason });
    msg.textContent = word("stop_state", issued.answer.state);
    event = issued.event;
  } catch (error) {
    msg.textContent = `${t("action_failed")}: ${error.detail ?? error.message}`;
    return;
  }
  await afterAction(event);
}

// After an order or an alarm action: the lists and counts at once (read from state, which
// the action's answer follows), the map once the live index has applied the action's
// event (`loadMap`); an alarm action names none and changes nothing on the map.
async function afterAction(event = null) {
  if (event) state.awaiting = { event, until: Date.now() + AWAIT_MS };
  await Promise.all([loadLists(), loadOverview()]);
  renderOverview();
  await loadMap();
  if (state.station) await showStation(state.station);
}

// --- alarms, stop orders, zombie piles ----------------------------------------------------
async function loadLists() {
  const area = state.area;
  const fresh = ask("lists");
  const [alarms, orders, inForce, zombies] = await Promise.all([
    optionalPage(PLUGGED.alarms, { area, limit: 200 }),
    optionalPage(PLUGGED.stopOrders, { area, limit: 100 }),
    optionalPage(PLUGGED.stopOrders, { area, in_force_only: true, limit: 1000 }),
    optionalPage(PLUGGED.zombies, { area, limit: 500 }),
  ]);
  if (!fresh()) return;
  state.lists = {
    alarms: alarms?.rows ?? null, orders: orders?.rows ?? null, zombies: zombies?.rows ?? null,
    inForce: inForce?.rows ?? [],
  };
  state.totals = { alarms: alarms?.total, inForce: inForce?.total, zombies: zombies?.total };
  if (!state.editing) renderList();
}

function deliveries(order) {
  const counts = {};
  for (const d of order.deliveries ?? []) counts[d.outcome ?? "pending"] = (counts[d.outcome ?? "pending"] ?? 0) + 1;
  return Object.entries(counts).map(([k, n]) => `${n} ${esc(word("outcome", k))}`).join(" · ");
}

const LISTS = {
  alarms: {
    total: () => state.totals.alarms,
    columns: [
      { label: "raised_at", cell: (r) => when(r.raised_at), nw: true },
      { label: "severity", cell: (r) => `<span class="badge sev-${esc(r.severity)}">${esc(word("severity", r.severity))}</span>` },
      { label: "code", cell: (r) => esc(word("alarm", r.code)) },
      { label: "station_name", cell: (r) => esc(r.station_name ?? r.station_id) },
      { label: "message", cell: (r) => esc(r.message) },
      { label: "actions", cell: (r) => actions(r.alarm_id, [
        r.acknowledged_at ? `<span class="muted">${t("acknowledged")}</span>` : button("ack", r.alarm_id, "acknowledge"),
        button("clear", r.alarm_id, "clear")]) },
    ],
  },
  orders: {
    total: () => state.totals.inForce,
    columns: [
      { label: "issued_at", cell: (r) => when(r.issued_at), nw: true },
      { label: "target_id", cell: (r) => `${esc(r.station_name ?? r.station_id)}${r.target_kind === "charger" ? ` · ${esc(r.target_id)}` : ""}` },
      { label: "reason", cell: (r) => esc(r.reason) },
      { label: "state", cell: (r) => `<span class="badge st-${esc(r.state)}">${esc(word("stop_state", r.state))}</span>` },
      { label: "deliveries", cell: (r) => deliveries(r), nw: true },
      // the operator's newest report of what it did (its workspace sends it)
      { label: "rectification", cell: (r) => r.rectified_at
        ? `<span class="badge ok">${esc(t("reported"))}</span> <span class="muted small">${when(r.rectified_at)}</span>` +
          `<div class="small rectification">${esc(r.rectification)}</div>`
        : `<span class="muted">—</span>` },
      { label: "actions", cell: (r) => r.lifted_at ? `<span class="muted">${when(r.lifted_at)}</span>` : actions(r.stop_id, [button("lift", r.stop_id, "lift")]) },
    ],
  },
  zombies: {
    total: () => state.totals.zombies,
    columns: [
      { label: "since", cell: (r) => when(r.since), nw: true },
      { label: "station_name", cell: (r) => esc(r.station_name ?? r.station_id) },
      { label: "charger_id", cell: (r) => `<span title="${esc(r.charger_id)}: ${esc(r.evidence)}">` +
        `${esc(r.charger_id.startsWith(`${r.station_id}-`) ? r.charger_id.slice(r.station_id.length + 1) : r.charger_id)}</span>` },
      { label: "rules", cell: (r) => r.rules.map((k) => esc(word("rule", k))).join("、") },
      { label: "stage", cell: (r) => esc(word("stage", r.stage)), nw: true },
      { label: "deadline", cell: (r) => when(r.deadline), nw: true },
    ],
  },
};

function button(act, id, label) {
  return `<button type="button" class="mini" data-act="${act}" data-id="${esc(id)}">${t(label)}</button>`;
}

function actions(id, parts) { return `<span class="acts" data-for="${esc(id)}">${parts.join(" ")}</span>`; }

function renderList() {
  const spec = LISTS[state.list];
  const rows = state.lists[state.list];
  document.getElementById("list").innerHTML = grid(rows ?? null, spec.columns);
  const total = spec.total();
  document.getElementById("list-note").textContent =
    total === undefined || rows === null ? "" : `${num(Math.min(rows.length, total))} / ${num(total)}`;
  for (const b of document.querySelectorAll("#list-tabs button")) b.classList.toggle("on", b.dataset.list === state.list);
}

// Buttons in the lists: acknowledge at once; clear and lift ask for a reason in place.
async function onListClick(event) {
  const b = event.target.closest("button[data-act]");
  if (!b) return;
  const { act, id } = b.dataset;
  const cell = b.closest(".acts");
  if (act === "clear" || act === "lift") {
    state.editing = true;
    cell.innerHTML = `<input class="reason" maxlength="1000" placeholder="${t("reason")}">
      ${button(`${act}-go`, id, "confirm")} ${button("cancel", id, "cancel")}`;
    cell.querySelector("input").focus();
    return;
  }
  if (act === "cancel") {
    state.editing = false;
    renderList();
    if (state.station) await showStation(state.station);
    return;
  }
  let path;
  let body;
  if (act === "ack") {
    path = `${PLUGGED.alarms}/${encodeURIComponent(id)}/acknowledge`;
  } else {
    const reason = cell.querySelector("input.reason").value.trim();
    if (!reason) { cell.querySelector("input.reason").placeholder = t("reason_required"); return; }
    body = { reason };
    path = act === "clear-go"
      ? `${PLUGGED.alarms}/${encodeURIComponent(id)}/clear`
      : `${PLUGGED.stopOrders}/${encodeURIComponent(id)}/lift`;
  }
  b.disabled = true;
  let recorded;
  try {
    recorded = (await postAction(path, body)).event;
  } catch (error) {
    cell.insertAdjacentHTML("beforeend", ` <span class="err">${t("action_failed")}: ${esc(error.detail ?? error.message)}</span>`);
    b.disabled = false;
    return;
  }
  state.editing = false;
  await afterAction(recorded);
}

// --- operator scorecards ------------------------------------------------------------------
async function loadScorecards() {
  const fresh = ask("scorecards");
  const cards = await optional(PLUGGED.scorecards, { area: state.area });
  if (!fresh()) return;
  state.external.scorecards = cards;
  renderScorecards();
}

function renderScorecards() {
  const v = (r, k) => r.values?.[k];
  document.getElementById("scorecards").innerHTML = grid(state.external.scorecards ?? null, [
    { label: "rank", cell: (r) => num(r.rank), n: true },
    { label: "operator", cell: (r) => operatorName(r.operator_id) },
    { label: "stars", cell: (r) => stars(r.stars) },
    { label: "score", cell: (r) => num(r.score, 1), n: true },
    { label: "uptime_percent", cell: (r) => num(v(r, "uptime"), 1), n: true },
    { label: "repair_h", cell: (r) => num(v(r, "repair"), 1), n: true },
    { label: "zombies_per_100", cell: (r) => num(v(r, "zombies"), 1), n: true },
    { label: "sessions_ok", cell: (r) => num(v(r, "sessions"), 1), n: true },
    { label: "completeness", cell: (r) => num(v(r, "completeness"), 1), n: true },
  ], (r) => `data-operator="${esc(r.operator_id)}"`);
  document.getElementById("scorecards-note").textContent = t("last_30_days");
}

// --- plan vs actual (planning's count) ----------------------------------------------------
async function loadPlan() {
  const fresh = ask("plan");
  const [rows, parts] = await Promise.all([
    optional(PLUGGED.targets, { area: state.area }),
    get("/api/v1/areas", { parent: state.area, limit: 1000 }),
  ]);
  if (!fresh()) return;
  state.parts = parts;
  state.external.targets = rows;
  const built = planRows();
  const years = [...new Set([...built.map((r) => r.year), thisYear()])].sort();
  if (!years.includes(state.year)) {
    const withTargets = built.map((r) => r.year);
    state.year = withTargets.includes(thisYear()) ? thisYear()
      : [...withTargets].sort().reverse().find((y) => y <= thisYear()) ?? thisYear();
  }
  document.getElementById("plan-year").innerHTML =
    years.map((y) => `<option ${y === state.year ? "selected" : ""}>${y}</option>`).join("");
  renderPlan();
}

// The yearly new-pile targets of the area's parts (or of the area itself, for a county).
function planRows() {
  const rows = (state.external.targets ?? []).filter((r) => NEW_PILE_METRICS.includes(r.metric) && r.month === null);
  const parts = rows.filter((r) => r.area_code !== state.area);
  const chosen = parts.length ? parts : rows;
  const counts = {};
  for (const r of chosen) counts[r.metric] = (counts[r.metric] ?? 0) + 1;
  const metric = Object.keys(counts).sort((a, b) => counts[b] - counts[a])[0];
  return chosen.filter((r) => r.metric === metric);
}

function renderPlan() {
  const note = document.getElementById("plan-note");
  if (state.external.targets === null) { ui.planChart.clear(); note.innerHTML = NA(); return; }
  const rows = planRows();
  const order = state.parts.map((p) => p.code);
  const codes = [...new Set(rows.map((r) => r.area_code))]
    .sort((a, b) => (order.indexOf(a) + 1 || 1e9) - (order.indexOf(b) + 1 || 1e9) || a.localeCompare(b));
  const ofYear = codes.map((c) => rows.find((r) => r.area_code === c && r.year === state.year) ?? null);
  if (!ofYear.some((r) => r)) {
    ui.planChart.clear();
    note.textContent = t("no_targets_year");
    return;
  }
  const statuses = ofYear.map((r) => r?.status ?? "no_data");
  const shown = [...new Set(statuses)];
  note.innerHTML = `${esc(t(rows[0].metric === "new_public_piles" ? "new_piles_metric_public" : "new_piles_metric_total"))}, ` +
    `${t("plan_counted")} · ${shown.map((s) => `<i class="dot" style="background:${PLAN_COLOURS[s]}"></i>${word("plan", s)}`).join(" ")}`;
  const label = { show: true, position: "top", fontSize: 10, formatter: (p) => num(p.value) };
  ui.planChart.setOption({
    tooltip: {
      trigger: "axis",
      formatter: (items) => {
        const r = ofYear[items[0].dataIndex];
        if (!r) return items[0].name;
        const f = r.forecast ? `<br>${t("forecast")}: ${num(r.forecast.value)} (${esc(r.forecast.method)})` : "";
        return `${esc(items[0].name)}<br>${t("target")}: ${num(r.target)}<br>${t("actual")}: ${num(r.actual)}` +
          ` · ${word("plan", r.status)}${f}`;
      },
    },
    legend: { data: [t("target"), t("actual"), t("forecast")], top: 0 },
    grid: { left: 10, right: 20, top: 30, bottom: 10, containLabel: true },
    xAxis: { type: "category", data: codes.map(partName), axisLabel: { rotate: 35, interval: 0 } },
    yAxis: { type: "value", axisLabel: { formatter: (v) => num(v) } },
    series: [
      { name: t("target"), type: "bar", barMaxWidth: 36, data: ofYear.map((r) => r?.target ?? null), itemStyle: { color: "#bdbdbd" }, label },
      { name: t("actual"), type: "bar", barMaxWidth: 36, data: ofYear.map((r) => r?.actual ?? null), label,
        itemStyle: { color: (p) => PLAN_COLOURS[statuses[p.dataIndex]] ?? "#0b5cab" } },
      { name: t("forecast"), type: "scatter", symbol: "diamond", symbolSize: 11, itemStyle: { color: "#222" },
        data: ofYear.map((r) => r?.forecast?.value ?? null) },
    ],
  }, true);
}

// --- coverage gaps and where to build next (planning) -------------------------------------
async function loadGaps() {
  const year = state.year ?? thisYear();
  const fresh = ask("gaps");
  const [gaps, siting] = await Promise.all([
    optional(PLUGGED.gaps, { area: state.area, year, limit: 2000 }),
    optional(PLUGGED.siting, { area: state.area, year }),
  ]);
  if (!fresh()) return;
  state.external.gaps = gaps;
  state.external.siting = siting;
  renderGaps();
}

function gapTip(rule, s) {
  const name = esc(s.name);
  if (rule.kind === "road_spacing") {
    return `${name}<br>${t("gap_length")} ${num(s.measured, 1)} km > ${num(s.required)} km · ${t("new_stations")} ${num(s.new_stations)}`;
  }
  if (rule.kind === "area_presence" || rule.kind === "area_minimum") return `${name}: ${t("no_public_pile")}`;
  return `${name}<br>${t("nearest_charger")} ${num(s.measured, 1)} km · ${t("required_max")} ${num(s.required)} km`;
}

function renderGaps() {
  ui.gaps.clearLayers();
  ui.sites.clearLayers();
  ui.gapMarkers = [];
  ui.siteMarkers = [];
  const gaps = state.external.gaps;
  const legend = document.getElementById("gaps-legend");
  const note = document.getElementById("gaps-note");
  if (gaps === null) { legend.innerHTML = `${t("coverage_gaps")}: ${NA()}`; note.textContent = ""; return; }
  const ruleKind = {};
  const counts = {};
  const pointsOf = (s) => (s.positions?.length ? s.positions : s.lat === null ? [] : [[s.lat, s.lon]]);
  const many = gaps.gaps.filter((r) => GAP_STYLES[r.kind])
    .reduce((n, r) => n + r.shortfalls.reduce((m, s) => m + pointsOf(s).length, 0), 0)
    + (state.external.siting?.sites.length ?? 0);
  // Hundreds of gaps (a plan asking for a pile in every village) must not bury the
  // stations: smaller rings the more there are.
  const scale = many > 600 ? 0.5 : many > 200 ? 0.75 : 1;
  const sized = (style) => ({ ...style, radius: style.radius * scale, weight: Math.max(1, style.weight * scale) });
  for (const rule of gaps.gaps) {
    ruleKind[rule.rule_id] = rule.kind;
    const style = GAP_STYLES[rule.kind];
    if (!style) continue;
    for (const s of rule.shortfalls) {
      for (const [lat, lon] of pointsOf(s)) {
        const marker = L.circleMarker([lat, lon], sized(style)).bindTooltip(gapTip(rule, s)).addTo(ui.gaps);
        marker.gap = { rule: rule.rule_id, kind: rule.kind, id: s.id, lat, lon };
        ui.gapMarkers.push(marker);
        counts[rule.kind] = (counts[rule.kind] ?? 0) + 1;
      }
    }
  }
  const sites = state.external.siting?.sites ?? [];
  for (const site of sites) {
    const reasons = site.reasons.map((r) => esc(word("gap", ruleKind[r] ?? r))).join("、");
    const marker = L.circleMarker([site.lat, site.lon], sized(SITE_STYLE))
      .bindTooltip(`${t("build_next")}: ${esc(site.name)}<br>${t("site_reasons")}: ${reasons}` +
        (site.piles ? ` · ${t("piles_needed")} ${num(site.piles)}` : ""))
      .addTo(ui.sites);
    marker.site = site;
    ui.siteMarkers.push(marker);
  }
  const chip = (style, label, n) => `<span><i class="ring" style="border:${Math.max(2, style.weight)}px ${style.dashArray ? "dashed" : "solid"} ${style.color};` +
    `${style.fillColor ? `background:${style.fillColor}` : ""}"></i>${label} ${num(n)}</span>`;
  legend.innerHTML = `<b>${t("gaps_in")} ${state.year}</b>` +
    (Object.keys(counts).length
      ? Object.entries(counts).map(([k, n]) => chip(GAP_STYLES[k], t("gap_" + k), n)).join("")
      : ` <span class="muted">${t("none_found")}</span>`) +
    (state.external.siting ? chip(SITE_STYLE, t("build_next"), sites.length) : "");
  const cover = state.external.siting?.cover;
  note.textContent = cover ? `${t("build_next")}: ${cover.method} · ${cover.status} · gap ${num(100 * (cover.gap ?? 0), 1)}%` : "";
}

// --- planning progress and the monthly report ---------------------------------------------
async function loadProgress() {
  const month = document.getElementById("report-month").value;
  const fresh = ask("progress");
  const progress = await optional(PLUGGED.progress, { area: state.area, month });
  if (!fresh()) return;
  state.external.progress = progress;
  renderProgress();
}

function renderProgress() {
  const body = state.external.progress;
  const target = (u) => u.targets.find((r) => NEW_PILE_METRICS.includes(r.metric) && r.month === null);
  const cover = (u) => u.coverage?.village_distance;
  // A county's report is its one unit: no total row repeating it.
  const single = body?.units.length === 1 && body.units[0].area_code === body.region.area_code;
  const rows = body === null || body === undefined ? null
    : single ? body.units : [...body.units, { ...body.region, total: true }];
  document.getElementById("progress").innerHTML = grid(rows, [
    { label: "area", cell: (u) => `${u.total ? "<b>" : ""}${esc(areaName(u))}${u.total ? "</b>" : ""}` +
      (u.planning_unit ? ` <small class="muted">${t("planning_unit")}</small>` : "") },
    { label: "new_in_month", cell: (u) => num(u.piles.new_public_in_month), n: true },
    { label: "ytd_new", cell: (u) => num(target(u)?.actual ?? u.piles.new_public_year_to_date), n: true },
    { label: "year_target", cell: (u) => num(target(u)?.target), n: true },
    { label: "done_percent", cell: (u) => (target(u) ? pct(100 * target(u).progress) : "—"), n: true },
    { label: "public_in_service", cell: (u) => num(u.piles.public_in_service), n: true },
    { label: "village_cover", cell: (u) => (cover(u) ? `${num(cover(u).met ?? cover(u).within)} / ${num(cover(u).total ?? cover(u).points)}` : "—"), n: true },
    // The total row too: the area's own rules (every township, service areas …) are its own.
    { label: "on_track", cell: (u) => flagBadges(u), nw: true },
  ], (u) => `data-area="${esc(u.area_code)}"`);
  document.getElementById("progress-note").textContent = body ? `${t("report_due")} ${body.due}` : "";
}

// On track, or what needs attention: behind pace, a forecast short of the target, a
// coverage rule unmet in the unit (the flags themselves in the tooltip).
function flagBadges(unit) {
  if (unit.on_track) return `<span class="badge ok">${t("on_track_yes")}</span>`;
  const kinds = [...new Set(unit.flags.map((f) => f.split(":")[0]))];
  return `<span title="${esc(unit.flags.join(", "))}">${kinds.map((k) =>
    `<span class="badge warn">${esc(word("flag", k))}</span>`).join(" ")}</span>`;
}

// The last five years' months, newest first, named in the reader's language (the
// browser's own month picker would speak the browser's language, not the page's).
function renderMonths() {
  const select = document.getElementById("report-month");
  const chosen = select.value || state.month;
  const names = new Intl.DateTimeFormat(locale(), { year: "numeric", month: "long", timeZone: "UTC" });
  const now = new Date();
  const options = [];
  for (let i = 0; i < 60; i++) {
    const d = new Date(Date.UTC(now.getFullYear(), now.getMonth() - i, 1));
    const value = d.toISOString().slice(0, 7);
    options.push(`<option value="${value}" ${value === chosen ? "selected" : ""}>${names.format(d)}</option>`);
  }
  select.innerHTML = options.join("");
}

function reportLinks() {
  const month = document.getElementById("report-month").value;
  const q = `area=${encodeURIComponent(state.area)}&month=${encodeURIComponent(month)}`;
  document.getElementById("report-xlsx").href = `/api/v1/reports/monthly?${q}&format=xlsx`;
  document.getElementById("report-pdf").href = `/api/v1/reports/monthly?${q}&format=pdf`;
  document.getElementById("report-html").href = `/api/v1/reports/monthly?${q}&format=html`;
}

// --- trends over time ---------------------------------------------------------------------
async function loadTrends() {
  const months = Number(document.getElementById("trend-range").value);
  ui.trendChart.showLoading({ text: t("loading") });
  const fresh = ask("trends");
  const trends = await optional(PLUGGED.trends, { area: state.area, months });
  if (!fresh()) return;
  state.external.trends = trends;
  ui.trendChart.hideLoading();
  renderTrends();
}

function renderTrends() {
  const body = state.external.trends;
  if (!ui.trendChart) return;
  if (!body) { ui.trendChart.clear(); return; }
  const p = body.points;
  const label = (x) => x.month + (x.complete ? "" : "*");
  ui.trendChart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll" },
    grid: { left: 8, right: 8, top: 44, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: p.map(label) },
    yAxis: [
      { type: "value", axisLabel: { formatter: (v) => num(v) } },
      { type: "value", axisLabel: { formatter: (v) => `${v}%` }, min: (v) => Math.max(0, Math.floor(v.min - 2)), max: 100, splitLine: { show: false } },
      { type: "value", show: false },
      { type: "value", show: false, min: 0, max: 100 },
    ],
    series: [
      { name: t("public_piles"), type: "line", data: p.map((x) => x.piles.public), yAxisIndex: 0, symbolSize: 5 },
      { name: t("piles"), type: "line", data: p.map((x) => x.piles.total), yAxisIndex: 0, symbolSize: 5 },
      { name: t("uptime_short"), type: "line", data: p.map((x) => x.nevi_uptime), yAxisIndex: 1, connectNulls: false, symbolSize: 5 },
      { name: t("ev_per_public_pile"), type: "line", data: p.map((x) => x.ev_per_public_pile), yAxisIndex: 2, lineStyle: { type: "dashed" } },
      // orderly charging's valley share of the month's charging energy, as a percentage
      { name: t("valley_share_pct"), type: "line", data: p.map((x) => (x.valley_share == null ? null : Math.round(x.valley_share * 1000) / 10)), yAxisIndex: 3, connectNulls: false, symbolSize: 5, lineStyle: { type: "dotted" }, tooltip: { valueFormatter: (v) => (v == null ? t("unknown") : `${v}%`) } },
      { name: t("alarms_raised"), type: "bar", data: p.map((x) => x.alarms_raised), yAxisIndex: 2, barMaxWidth: 14, itemStyle: { color: "#f28e2b", opacity: 0.6 } },
    ],
  }, true);
}

// --- the county map coloured by progress, drill-down county → township → station ----------
function colourCounties() {
  const layer = ui.base?.boundaryLayer;
  if (!layer) return;
  const rows = planRows().filter((r) => r.year === state.year);
  const status = Object.fromEntries(rows.map((r) => [r.area_code, r.status]));
  layer.eachLayer((l) => {
    const code = l.feature.properties.code;
    if (l.feature.properties.level === "city") return;
    const s = status[code];
    l.setStyle({ fillColor: s ? PLAN_COLOURS[s] : "#f4f1ea", fillOpacity: s ? 0.28 : 0.6,
      weight: code === state.area ? 3 : 1, color: code === state.area ? "#0b5cab" : "#7a7a7a" });
  });
  const shown = [...new Set(Object.values(status))];
  document.getElementById("progress-legend").innerHTML = shown.length
    ? `<b>${t("progress_map")} ${state.year}</b>` + shown.map((k) =>
      `<span><i style="background:${PLAN_COLOURS[k]};border-radius:2px;opacity:.7"></i>${word("plan", k)}</span>`).join("")
    : "";
}

function wireDrillDown() {
  const layer = ui.base?.boundaryLayer;
  if (!layer) return;
  layer.eachLayer((l) => {
    if (l.feature.properties.level === "city") return;
    l.on("click", () => {
      const code = l.feature.properties.code;
      if (code === state.area || !ui.areas.some((a) => a.code === code)) return;
      drillTo(code);
    });
  });
}

async function drillTo(code) {
  state.area = code;
  state.station = null;
  state.township = null;
  document.getElementById("area").value = code;
  document.body.dataset.ready = "";
  await loadAll();
}

// At a county: its townships as labelled points; one clicked lists its stations.
async function loadTownships() {
  ui.townships.clearLayers();
  const fresh = ask("townships");
  const area = ui.areas?.find((a) => a.code === state.area);
  if (!area || area.level !== "county") { fresh(); renderCrumbs(); return; }
  const rows = await optional("/api/v1/areas", { parent: state.area, limit: 1000 });
  if (!fresh()) return;
  ui.townships.clearLayers();
  for (const tw of rows ?? []) {
    if (tw.lat === null || tw.lon === null) continue;
    L.circleMarker([tw.lat, tw.lon], { radius: 9, color: "#0b5cab", weight: 2, fillColor: "#fff", fillOpacity: 0.7 })
      .bindTooltip(esc(areaName(tw)), { permanent: false })
      .on("click", () => showTownship(tw))
      .addTo(ui.townships).township = tw;
  }
  renderCrumbs();
}

async function showTownship(tw) {
  state.township = tw;
  renderCrumbs();
  const panel = document.getElementById("station-panel");
  panel.classList.remove("muted");
  render(panel, html`<p class="muted loading">${t("loading")}</p>`);
  const fresh = ask("panel");
  const data = await get("/api/v1/dashboard/map", { area: tw.code });
  if (!fresh()) return;
  const rows = data.stations;
  if (rows.length) ui.map.fitBounds(rows.map((r) => [r[1], r[2]]), { padding: [30, 30], maxZoom: 15 });
  else ui.map.setView([tw.lat, tw.lon], 13);
  render(panel, html`<h3 id="township-name">${areaName(tw)}</h3>
    <p>${num(rows.length)} ${t("stations")}</p>
    <ul class="township-stations">${rows.map(([id, , , st, available, total, name, nameEn]) => html`<li>
      <button type="button" class="link" data-station="${id}"><i class="dot" style="background:${STATE_COLOURS[st]}"></i>${lang() === "en" ? nameEn || name : name}</button>
      <span class="muted small">${available}/${total} ${t("free")}</span></li>`)}</ul>`);
  for (const b of panel.querySelectorAll("button[data-station]")) {
    b.addEventListener("click", () => showStation(b.dataset.station));
  }
}

function renderCrumbs() {
  const nav = document.getElementById("crumbs");
  const chain = [];
  const home = state.me?.area_code ?? null;
  const current = ui.areas?.find((a) => a.code === state.area);
  if (current?.child) {
    const parent = ui.areas.find((a) => !a.child && state.area.startsWith(areaPrefix(a.code)));
    if (parent) chain.push(parent);
  }
  if (current) chain.push(current);
  const items = chain.map((a, i) => (i < chain.length - 1 || state.township)
    ? html`<button type="button" class="link" data-code="${a.code}">${areaName(a)}</button>`
    : html`<span>${areaName(a)}</span>`);
  if (state.township) items.push(html`<span>${areaName(state.township)}</span>`);
  if (items.length < 2) { render(nav, html``); return; }
  render(nav, html`${items.map((x, i) => html`${i ? " › " : ""}${x}`)}`);
  for (const b of nav.querySelectorAll("button[data-code]")) {
    b.addEventListener("click", () => (b.dataset.code === state.area ? (state.township = null, renderCrumbs(), loadAll()) : drillTo(b.dataset.code)));
  }
  void home;
}

// Panels wait for their data with a word, not a blank.
function loading() {
  for (const id of ["cards", "list", "scorecards", "progress"]) {
    const el = document.getElementById(id);
    if (el && !el.querySelector(".loading")) el.innerHTML = `<p class="muted loading">${t("loading")}</p>`;
  }
  ui.planChart?.showLoading({ text: t("loading") });
  ui.statusChart?.showLoading({ text: t("loading") });
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
    `${a.child ? "— " : ""}${esc(areaName(a))}</option>`).join("");
}

async function operators() {
  const rows = await get("/api/v1/operators", { limit: 1000 });
  state.operators = Object.fromEntries(rows.map((r) => [r.operator_id, r]));
}

async function loadAll() {
  loading();
  // The piles first (one quick call); uptime and the lists' counts join the cards after.
  state.pending = true;
  state.external.uptime = undefined;
  state.totals = {};
  const more = Promise.all([loadUptime(), loadLists()]);
  await loadOverview();
  ui.statusChart.hideLoading();
  renderOverview();
  await more;
  state.pending = false;
  renderOverview();
  // Gaps and siting take longest (cached on the server until the registry changes): the
  // rest of the screen does not wait for them.
  const slow = loadPlan().then(() => { ui.planChart.hideLoading(); colourCounties(); return loadGaps(); });
  await Promise.all([loadMap(), loadTrends(), loadScorecards(), loadProgress(), loadTownships(),
    loadOrderly(state.area), loadScenarios(state.area), slow]);
  const boundaries = (await mapLayers()).boundaries;
  const outline = boundaries?.features.filter((f) => f.properties.code === state.area) ?? [];
  if (outline.length) ui.map.fitBounds(L.geoJSON(outline).getBounds(), { padding: [10, 10] });
  else if (state.mapData.stations.length) ui.map.fitBounds(state.mapData.stations.map((s) => [s[1], s[2]]));
  reportLinks();
  state.ready = true;
  document.body.dataset.ready = "1";
}

async function refresh() {
  await Promise.all([loadOverview(), loadLists()]);
  renderOverview();
  await loadMap();
}

function relabel() {
  translatePage();
  if (!state.ready) return; // panels not loaded yet: they are drawn in the new language
  renderTrends();
  renderOrderly();
  colourCounties();
  renderCrumbs();
  renderAreas();
  renderOverview();
  renderMap();
  renderPlan();
  renderGaps();
  state.editing = false;
  renderList();
  renderScorecards();
  renderProgress();
  renderMonths();
  renderScenarios();
  if (state.station) showStation(state.station);
}

state.me = await header("dashboard", relabel);
if (!state.me) {
  location.href = "/login?next=/dashboard";
} else if (!["regulator", "admin"].includes(state.me.role)) {
  // A proper refusal: what this page is for, and where this account can go instead.
  const refused = document.getElementById("refused");
  refused.hidden = false;
  const home = state.me.role === "operator" ? { href: "/workspace", label: "workspace" } : { href: "/", label: "finder" };
  render(refused, html`<h1>${t("refused_title")}</h1><p>${t("refused_dashboard")}</p>
    <p>${t("refused_workspace")} <a id="refused-home" href="${home.href}">${t(home.label)}</a></p>
    <p><a href="/login?next=/dashboard">${t("login_other")}</a></p>`);
} else {
  document.getElementById("dash").hidden = false;
  ui.map = blankMap(document.getElementById("dash-map"));
  ui.base = await drawBase(ui.map, { areaCode: state.me.area_code });
  ui.gaps = L.layerGroup().addTo(ui.map);
  ui.sites = L.layerGroup().addTo(ui.map);
  ui.stations = L.layerGroup().addTo(ui.map);  // stations on top: they are what is there
  ui.townships = L.layerGroup().addTo(ui.map);
  wireDrillDown();
  ui.statusChart = echarts.init(document.getElementById("status-chart"));
  ui.planChart = echarts.init(document.getElementById("plan-chart"));
  ui.trendChart = echarts.init(document.getElementById("trend-chart"));
  initOrderly();
  window.addEventListener("resize", () => { ui.statusChart.resize(); ui.planChart.resize(); ui.trendChart.resize(); });
  document.getElementById("trend-range").addEventListener("change", loadTrends);
  const lastMonth = new Date(); lastMonth.setDate(0);
  state.month = `${lastMonth.getFullYear()}-${String(lastMonth.getMonth() + 1).padStart(2, "0")}`;
  renderMonths();
  document.getElementById("report-month").addEventListener("change", () => { reportLinks(); loadProgress(); });
  document.getElementById("plan-year").addEventListener("change", (e) => {
    state.year = Number(e.target.value);
    renderPlan();
    colourCounties();
    loadGaps();
  });
  document.getElementById("show-gaps").addEventListener("change", (e) =>
    e.target.checked ? ui.gaps.addTo(ui.map) : ui.gaps.remove());
  document.getElementById("show-sites").addEventListener("change", (e) =>
    e.target.checked ? ui.sites.addTo(ui.map) : ui.sites.remove());
  document.getElementById("list").addEventListener("click", onListClick);
  document.getElementById("station-panel").addEventListener("click", onListClick);
  for (const b of document.querySelectorAll("#list-tabs button")) {
    b.addEventListener("click", () => { state.list = b.dataset.list; state.editing = false; renderList(); });
  }
  state.area = new URLSearchParams(location.search).get("area") || state.me.area_code || "140900";
  await Promise.all([areas(), operators()]);
  document.getElementById("area").addEventListener("change", (e) => drillTo(e.target.value));
  await loadAll();
  setInterval(refresh, REFRESH_MS);
}
