// Orderly charging on the dashboard: an area's (or one managed station's) metered load
// against its limit per quarter hour, the limit under demand-response events shaded, the
// valley share and the peak; beside it the load that could be shed or shifted in the next
// hours. Reads /api/v1/orderly/load and /api/v1/orderly/flexibility (docs/orderly.md).
import { optional, post } from "./api.js";
import { esc } from "./html.js";
import { kw, num, t, utcOf, wallOf, when, zoneName } from "./i18n.js";

export const ORDERLY = {
  load: "/api/v1/orderly/load",               // ?area=|station=&day=&days= → {points, dr_events, sites, peak_w, valley_share}
  flexibility: "/api/v1/orderly/flexibility", // ?area=|station=&hours= → {hours: [{start, expected_w, flexible_w, …}]}
  drEvents: "/api/v1/orderly/dr-events",        // POST {scope, scope_id, start, end, share, reason} → {dr_id}
};
const echarts = window.echarts;
const view = { area: null, load: null, flex: null, chart: null, flexChart: null, asked: 0, answered: 0 };
window.chargenetOrderly = view;

function today() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zoneName() }).format(new Date());
}

function controls() {
  return {
    site: document.getElementById("orderly-site"),
    day: document.getElementById("orderly-day"),
    span: document.getElementById("orderly-span"),
    note: document.getElementById("orderly-note"),
    drStart: document.getElementById("dr-start"),
    drEnd: document.getElementById("dr-end"),
    drShare: document.getElementById("dr-share"),
    drReason: document.getElementById("dr-reason"),
    drScope: document.getElementById("dr-scope"),
    drMsg: document.getElementById("dr-msg"),
  };
}

// A regulator calls an event on its area, or on the station chosen above: from the start
// to the end, managed stations draw at most the share of their limit (docs/orderly.md).
async function callDemandResponse() {
  const c = controls();
  const reason = c.drReason.value.trim();
  if (!reason) { c.drMsg.textContent = t("reason_required"); return; }
  if (!c.drStart.value || !c.drEnd.value) { c.drMsg.textContent = t("action_failed"); return; }
  const station = c.site.value;
  const body = {
    scope: station ? "station" : "area", scope_id: station || view.area,
    start: utcOf(c.drStart.value), end: utcOf(c.drEnd.value),
    share: Number(c.drShare.value) / 100, reason,
  };
  c.drMsg.textContent = t("sending");
  try {
    const called = await post(ORDERLY.drEvents, body);
    c.drMsg.textContent = `${t("dr_called")}: ${called.dr_id}`;
  } catch (error) {
    const detail = Array.isArray(error.detail) ? error.detail.map((d) => d.msg).join("; ") : error.detail;
    c.drMsg.textContent = `${t("action_failed")}: ${detail ?? error.message}`;
    return;
  }
  await loadOrderly(view.area, true);
}

function renderScope() {
  const c = controls();
  c.drScope.textContent = t(c.site.value ? "dr_scope_station" : "dr_scope_area");
}

export function initOrderly() {
  view.chart = echarts.init(document.getElementById("orderly-chart"));
  view.flexChart = echarts.init(document.getElementById("flex-chart"));
  const c = controls();
  c.day.value = new URLSearchParams(location.search).get("orderly_day") || today();
  for (const el of [c.site, c.day, c.span]) el.addEventListener("change", () => loadOrderly(view.area, true));
  const start = new Date(Math.ceil(Date.now() / 900_000) * 900_000); // the next quarter hour
  c.drStart.value = wallOf(start);
  c.drEnd.value = wallOf(new Date(start.getTime() + 3_600_000));
  document.getElementById("dr-call").addEventListener("click", callDemandResponse);
  window.addEventListener("resize", () => { view.chart.resize(); view.flexChart.resize(); });
}

export async function loadOrderly(area, keepSite = false) {
  const c = controls();
  if (area !== view.area) { view.area = area; keepSite = false; }
  const station = keepSite ? c.site.value : "";
  const where = station ? { station } : { area };
  view.chart.showLoading({ text: t("loading") });
  // Another day or station chosen (or an event called) before this answers: a late answer
  // to the older question must not replace the newer one on the chart.
  const asked = ++view.asked;
  const [load, flex] = await Promise.all([
    optional(ORDERLY.load, { ...where, day: c.day.value, days: c.span.value }),
    optional(ORDERLY.flexibility, { ...where, hours: 12 }),
  ]);
  if (asked < view.answered) return;
  view.answered = asked;
  [view.load, view.flex] = [load, flex];
  view.chart.hideLoading();
  if (!station && view.load) view.sites = view.load.sites;
  renderOrderly();
}

function renderSites() {
  const c = controls();
  const chosen = c.site.value;
  const options = [`<option value="">${esc(t("orderly_whole_area"))}</option>`].concat(
    (view.sites ?? []).map((s) => `<option value="${esc(s.station_id)}" ${s.station_id === chosen ? "selected" : ""}>` +
      `${esc(s.name || s.station_id)}</option>`));
  c.site.innerHTML = options.join("");
}

// A value per quarter hour, held until the next quarter begins: each run of values ends
// with a point at its end (ECharts' step "end" draws a value from its point to the next).
function held(points, end, value) {
  const out = [];
  points.forEach((x, i) => {
    const v = value(x);
    out.push([x.at, v]);
    const next = points[i + 1];
    if (v !== null && (!next || value(next) === null)) out.push([next ? next.at : end, v]);
  });
  return out;
}

export function renderOrderly() {
  if (!view.chart) return;
  renderSites();
  renderScope();
  const body = view.load;
  const c = controls();
  if (!body) { view.chart.clear(); view.flexChart.clear(); c.note.textContent = t("not_available"); return; }
  if (!body.stations) { view.chart.clear(); view.flexChart.clear(); c.note.textContent = t("no_managed"); return; }
  const share = body.valley_share === null || body.valley_share === undefined ? "—" : `${num(100 * body.valley_share, 1)}%`;
  c.note.textContent = `${t("valley_share")} ${share} · ${t("peak_load")} ${body.peak_w ? kw(body.peak_w) : "—"}` +
    (body.peak_at ? ` (${when(body.peak_at)})` : "");
  const p = body.points;
  const kW = (w) => (w === null || w === undefined ? null : w / 1000);
  view.chart.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : `${num(v, 1)} kW`) },
    legend: { top: 0 },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "time", axisLabel: { formatter: (v) => when(new Date(v).toISOString()).slice(-5) } },
    yAxis: { type: "value", name: "kW", axisLabel: { formatter: (v) => num(v) } },
    series: [
      {
        name: t("load"), type: "line", step: "end", showSymbol: false, areaStyle: { opacity: 0.15 },
        data: held(p, body.end, (x) => kW(x.load_w)),
        markArea: {
          itemStyle: { color: "rgba(242, 142, 43, 0.18)" },
          data: body.dr_events.map((e) => [
            { name: `${t("dr_event")} ${num(100 * e.share)}%`, xAxis: e.start }, { xAxis: e.end },
          ]),
        },
      },
      { name: t("limit"), type: "line", step: "end", showSymbol: false, lineStyle: { color: "#d73027" },
        itemStyle: { color: "#d73027" }, data: held(p, body.end, (x) => kW(x.limit_w)) },
      { name: t("dr_limit"), type: "line", step: "end", showSymbol: false, connectNulls: false,
        lineStyle: { color: "#f28e2b", type: "dashed" }, itemStyle: { color: "#f28e2b" },
        data: held(p, body.end, (x) => kW(x.dr_limit_w)) },
    ],
  }, true);
  const hours = view.flex?.hours ?? [];
  view.flexChart.setOption({
    title: { text: t("flexibility"), left: 0, top: 0, textStyle: { fontSize: 13 } },
    tooltip: { trigger: "axis", valueFormatter: (v) => `${num(v, 1)} kW` },
    legend: { top: 28 },
    grid: { left: 8, right: 8, top: 68, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: hours.map((h) => when(h.start).slice(-5)) },
    yAxis: { type: "value", name: "kW" },
    series: [
      { name: t("flex_sessions"), type: "bar", stack: "flex", data: hours.map((h) => kW(h.from_sessions_w)) },
      { name: t("flex_arrivals"), type: "bar", stack: "flex", data: hours.map((h) => kW(h.from_arrivals_w)) },
      { name: t("expected_load"), type: "line", data: hours.map((h) => kW(h.expected_w)) },
    ],
  }, true);
}
