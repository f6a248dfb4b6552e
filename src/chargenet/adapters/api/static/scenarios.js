// Saved planning scenarios side by side on the dashboard: the regulator ticks two or
// three of the area's saved scenarios and the panel lays out their comparison
// (GET /api/v1/planning/scenarios/compare, the same figures as its XLSX) in columns:
// sites, stations upgraded, ports per power class, money, the share of villages the
// phased plan brings within each year's charging distance, and the demand left unmet.
import { get, optional } from "./api.js";
import { html, render } from "./html.js";
import { num, t } from "./i18n.js";

export const SCENARIOS = "/api/v1/planning/scenarios";
export const COMPARE = "/api/v1/planning/scenarios/compare";
const MOST = 3;
// [figure, label, format]; coverage_<year> rows are added for every year a plan holds.
const money = (v) => num(v);
const FIGURES = [
  ["sites", "cmp_sites", num],
  ["upgraded_stations", "cmp_upgraded", num],
  ["ports_ac", "cmp_ports_ac", num],
  ["ports_dc", "cmp_ports_dc", num],
  ["ports_ultra", "cmp_ports_ultra", num],
  ["capex", "cmp_capex", money],
  ["opex_year", "cmp_opex_year", money],
  ["total_cost", "cmp_total_cost", money],
  ["coverage", "cmp_coverage", (v) => (v === null || v === undefined ? "—" : `${num(100 * v, 1)}%`)],
  ["demand_kwh_day", "cmp_demand_kwh", (v) => num(v, 1)],
  ["unmet_kwh_day", "cmp_unmet_kwh", (v) => num(v, 1)],
  ["uncovered", "cmp_uncovered", num],
];
const state = { area: null, saved: undefined, chosen: [], rows: undefined, busy: false, error: null };
window.chargenetScenarios = state;

export async function loadScenarios(area) {
  if (area !== state.area) { state.chosen = []; state.rows = undefined; }
  state.area = area;
  state.saved = await optional(SCENARIOS, { area });
  state.chosen = state.chosen.filter((n) => state.saved?.some((s) => s.name === n));
  renderScenarios();
}

function compareQuery(format) {
  const q = new URLSearchParams({ area: state.area });
  for (const name of state.chosen) q.append("names", name);
  if (format) q.set("format", format);
  return `${COMPARE}?${q}`;
}

async function compare() {
  state.busy = true;
  state.error = null;
  renderScenarios();
  try {
    state.rows = await get(compareQuery());
  } catch (error) {
    state.rows = undefined;
    state.error = error.detail ?? String(error);
  }
  state.busy = false;
  renderScenarios();
}

// Figures as rows, one column per scenario; a coverage row per year any plan holds.
function table(rows) {
  const years = [...new Set(rows.flatMap((r) => Object.keys(r)
    .filter((k) => k.startsWith("coverage_")).map((k) => Number(k.slice(9)))))].sort();
  const lines = [];
  for (const [key, label, format] of FIGURES) {
    if (key === "coverage") {
      for (const y of years) lines.push({ key: `coverage_${y}`, label: `${t(label)} ${y}`, format });
    } else {
      lines.push({ key, label: t(label), format });
    }
  }
  return html`<table class="grid" id="scenario-compare"><thead><tr><th>${t("cmp_figure")}</th>
    ${rows.map((r) => html`<th class="n" data-scenario="${r.scenario}">${r.scenario}</th>`)}</tr></thead>
    <tbody>${lines.map((line) => html`<tr data-figure="${line.key}"><td>${line.label}</td>
      ${rows.map((r) => html`<td class="n">${line.format(r[line.key])}</td>`)}</tr>`)}</tbody></table>
    <p class="muted small">${t("cmp_currency")} ${rows[0]?.currency ?? ""} ·
      <a id="scenario-xlsx" href="${compareQuery("xlsx")}">${t("download_xlsx")}</a></p>`;
}

export function renderScenarios() {
  const pick = document.getElementById("scenario-pick");
  const out = document.getElementById("scenario-table");
  if (!pick || !out) return;
  if (state.saved === null) { render(pick, html`<span class="na">${t("not_available")}</span>`); return; }
  if (state.saved === undefined) { render(pick, html`<span class="muted loading">${t("loading")}</span>`); return; }
  if (!state.saved.length) {
    render(pick, html`<p class="muted">${t("cmp_none_saved")}</p>`);
    render(out, html``);
    return;
  }
  const ready = state.chosen.length >= 2 && state.chosen.length <= MOST && !state.busy;
  render(pick, html`<p class="muted small">${t("cmp_pick")}</p>
    <span class="scenario-list">${state.saved.map((s) => html`<label><input type="checkbox"
      name="scenario" value="${s.name}" ${state.chosen.includes(s.name) ? html`checked` : ""}
      ${!state.chosen.includes(s.name) && state.chosen.length >= MOST ? html`disabled` : ""}>
      ${s.name} <small class="muted">${s.year}</small></label> `)}</span>
    <button id="scenario-compare-go" class="primary" ${ready ? "" : html`disabled`}>${t("cmp_go")}</button>`);
  for (const box of pick.querySelectorAll("input[name=scenario]")) {
    box.addEventListener("change", () => {
      state.chosen = box.checked ? [...state.chosen, box.value] : state.chosen.filter((n) => n !== box.value);
      renderScenarios();
    });
  }
  pick.querySelector("#scenario-compare-go").addEventListener("click", compare);
  if (state.busy) render(out, html`<p class="muted loading">${t("cmp_planning")}</p>`);
  else if (state.error) render(out, html`<p class="na">${state.error}</p>`);
  else if (state.rows) render(out, table(state.rows));
  else render(out, html``);
}
