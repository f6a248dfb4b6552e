// The operator's workspace: its stations and their live status; what the regulator
// addressed to it (zombie-pile cases with their deadlines, stop orders, open alarms) with a
// way to report a rectification; its scorecard and uptime; the data it sent that the
// platform refused, and why. Every list is the operator's own (the API scopes it).
import { get, optional, optionalPage, post } from "./api.js";
import { header } from "./chrome.js";
import { html, render } from "./html.js";
import { lang, num, t, translatePage, when } from "./i18n.js";

const state = { me: null, list: "zombies", lists: {}, totals: {}, stations: null, card: null, uptime: null, operator: null };
window.chargenet = { state };

const NA = () => html`<span class="na">${t("not_available")}</span>`;
function word(prefix, key) { const k = `${prefix}_${key}`; const w = t(k); return w === k ? String(key) : w; }
function pct(v, d = 1) { return v === null || v === undefined ? "—" : `${num(v, d)}%`; }
function overdue(deadline) { return deadline && new Date(deadline) < new Date(); }
function stationName(r) { return lang() === "en" ? r.station_name_en || r.name_en || r.station_name || r.name || r.station_id : r.station_name || r.name || r.station_id; }

function table(rows, columns) {
  if (rows === null || rows === undefined) return NA();
  if (!rows.length) return html`<p class="muted">${t("none")}</p>`;
  return html`<table class="grid"><thead><tr>${columns.map((c) => html`<th scope="col" class="${c.n ? "n" : ""}">${t(c.label)}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr data-id="${r._id ?? ""}">${columns.map((c) => html`<td class="${c.n ? "n" : c.nw ? "nw" : ""}">${c.cell(r) ?? "—"}</td>`)}</tr>`)}</tbody></table>`;
}

// --- what is addressed to the operator ---------------------------------------------------
// A case or a stop order: "reported" once the operator has said what it did, else a button
// that asks for it in place (`kind`: the API's collection, zombies or stop-orders).
function rectification(reportedAt, kind, id) {
  return reportedAt
    ? html`<span class="badge ok">${t("reported")}</span> <span class="muted small">${when(reportedAt)}</span>`
    : html`<button type="button" class="mini" data-act="report" data-kind="${kind}" data-id="${id}">${t("report_rectification")}</button>`;
}

const LISTS = {
  zombies: [
    { label: "station_name", cell: (r) => stationName(r) },
    { label: "charger_id", cell: (r) => r.charger_id },
    { label: "rules", cell: (r) => r.rules.map((k) => word("rule", k)).join("、") },
    { label: "stage", cell: (r) => word("stage", r.stage), nw: true },
    { label: "deadline", nw: true, cell: (r) => html`<span class="${overdue(r.deadline) ? "overdue" : ""}">${when(r.deadline)}${overdue(r.deadline) ? html` <span class="badge warn">${t("overdue")}</span>` : ""}</span>` },
    { label: "rectification", cell: (r) => rectification(r.reported_at, "zombies", r.case_id) },
  ],
  orders: [
    { label: "issued_at", cell: (r) => when(r.issued_at), nw: true },
    { label: "target_id", cell: (r) => html`${stationName(r)}${r.target_kind === "charger" ? ` · ${r.target_id}` : ""}` },
    { label: "reason", cell: (r) => r.reason },
    { label: "state", cell: (r) => html`<span class="badge st-${r.state}">${word("stop_state", r.state)}</span>` },
    { label: "rectification", cell: (r) => (r.lifted_at && !r.rectified_at ? null : rectification(r.rectified_at, "stop-orders", r.stop_id)) },
  ],
  alarms: [
    { label: "raised_at", cell: (r) => when(r.raised_at), nw: true },
    { label: "severity", cell: (r) => html`<span class="badge sev-${r.severity}">${word("severity", r.severity)}</span>` },
    { label: "code", cell: (r) => word("alarm", r.code) },
    { label: "station_name", cell: (r) => stationName(r) },
    { label: "message", cell: (r) => r.message },
  ],
  refused: [
    { label: "received_at", cell: (r) => when(r.received_at), nw: true },
    { label: "type", cell: (r) => r.type },
    { label: "adapter", cell: (r) => r.adapter },
    { label: "reason", cell: (r) => r.reason },
  ],
};

async function loadLists() {
  const [zombies, orders, alarms, refused] = await Promise.all([
    optionalPage("/api/v1/supervision/zombies", { limit: 500 }),
    optionalPage("/api/v1/supervision/stop-orders", { limit: 200 }),
    optionalPage("/api/v1/supervision/alarms", { limit: 200 }),
    optionalPage("/api/v1/events/rejected", { limit: 200 }),
  ]);
  state.lists = {
    zombies: zombies?.rows.map((r) => ({ ...r, _id: r.case_id })) ?? null,
    orders: orders?.rows.map((r) => ({ ...r, _id: r.stop_id })) ?? null,
    alarms: alarms?.rows ?? null, refused: refused?.rows ?? null,
  };
  state.totals = { zombies: zombies?.total, orders: orders?.total, alarms: alarms?.total, refused: refused?.total };
  renderList();
}

function renderList() {
  render(document.getElementById("ws-list"), table(state.lists[state.list], LISTS[state.list]));
  for (const b of document.querySelectorAll("#ws-tabs button")) {
    const on = b.dataset.list === state.list;
    b.classList.toggle("on", on);
    b.setAttribute("aria-selected", String(on));
    const n = state.totals[b.dataset.list];
    b.textContent = `${t(b.dataset.t)}${n === undefined ? "" : ` (${num(n)})`}`;
  }
}

async function onListClick(event) {
  const b = event.target.closest("button[data-act]");
  if (!b) return;
  const cell = b.closest("td");
  const id = b.dataset.id;
  const kind = b.dataset.kind;
  if (b.dataset.act === "report") {
    render(cell, html`<form class="rectify" data-id="${id}">
      <label class="sr-only" for="note-${id}">${t("rectification_note")}</label>
      <input id="note-${id}" class="reason" maxlength="1000" required placeholder="${t("rectification_note")}">
      <button type="submit" class="mini">${t("send")}</button> <span class="err" role="status"></span></form>`);
    cell.querySelector("input").focus();
    cell.querySelector("form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const note = cell.querySelector("input").value.trim();
      const msg = cell.querySelector(".err");
      if (!note) { msg.textContent = t("reason_required"); return; }
      msg.textContent = t("sending");
      try {
        await post(`/api/v1/supervision/${kind}/${encodeURIComponent(id)}/rectification`, { note });
      } catch (error) {
        msg.textContent = `${t("action_failed")}: ${error.detail ?? error.message}`;
        return;
      }
      await loadLists();
    });
  }
}

// --- stations, scorecard, uptime -----------------------------------------------------------
async function loadStations() {
  state.stations = await optional("/api/v1/stations", { operator: state.me.operator_id, limit: 1000 });
  renderStations();
}

function renderStations() {
  const rows = state.stations;
  const note = document.getElementById("ws-stations-note");
  if (rows) note.textContent = `${num(rows.length)} ${t("stations")}`;
  render(document.getElementById("ws-stations"), table(rows, [
    { label: "station", cell: (r) => stationName(r) },
    { label: "piles", cell: (r) => num(r.piles.total), n: true },
    { label: "status_available", cell: (r) => num(r.status.available), n: true },
    { label: "status_charging", cell: (r) => num(r.status.charging), n: true },
    { label: "status_faulted", cell: (r) => num(r.status.faulted + r.status.unavailable), n: true },
    { label: "status_offline", cell: (r) => num(r.status.offline), n: true },
  ]));
}

async function loadScore() {
  const [cards, uptime] = await Promise.all([
    optional("/api/v1/supervision/scorecards", {}),
    optional("/api/v1/supervision/uptime", { by: "all" }),
  ]);
  state.card = cards === null ? null : cards.find((c) => c.operator_id === state.me.operator_id) ?? cards[0] ?? {};
  state.uptime = uptime === null ? null : uptime[0] ?? {};
  renderCards();
}

function renderCards() {
  const c = state.card;
  const u = state.uptime;
  const s = state.stations ?? [];
  const total = (k) => s.reduce((n, r) => n + (r.status?.[k] ?? 0), 0);
  const card = (key, value, id) => html`<div class="card" id="ws-${id ?? key}"><div class="k">${t(key)}</div><div class="v">${value}</div></div>`;
  render(document.getElementById("ws-cards"), html`
    ${card("stations", num(s.length))}
    ${card("status_available", num(total("available")), "free")}
    ${card("status_faulted", num(total("faulted") + total("unavailable")), "faulted")}
    ${card("status_offline", num(total("offline")), "offline")}
    ${card("uptime", u === null ? NA() : pct(u.nevi_uptime), "uptime")}
    ${card("score", c === null ? NA() : c.score === undefined ? "—" : html`${num(c.score, 1)} <span class="stars">${"★".repeat(c.stars ?? 0)}${"☆".repeat(5 - (c.stars ?? 0))}</span>`, "score")}
    ${card("zombies", num(state.totals.zombies ?? 0), "zombies")}
    ${card("refused_data", num(state.totals.refused ?? 0), "refused")}`);
  const values = c?.values ?? {};
  render(document.getElementById("ws-scorecard"), c === null ? NA() : html`<dl class="score">
    <dt>${t("rank")}</dt><dd id="ws-rank">${c.rank ?? "—"}</dd>
    <dt>${t("uptime_percent")}</dt><dd>${pct(values.uptime)}</dd>
    <dt>${t("repair_h")}</dt><dd>${num(values.repair, 1)}</dd>
    <dt>${t("zombies_per_100")}</dt><dd>${num(values.zombies, 1)}</dd>
    <dt>${t("sessions_ok")}</dt><dd>${pct(values.sessions)}</dd>
    <dt>${t("completeness")}</dt><dd>${pct(values.completeness)}</dd></dl>
    <p class="muted small">${t("last_30_days")} · ${t("uptime_note")}</p>`);
  document.getElementById("ws-as-of").textContent = `${t("as_of")} ${when(new Date().toISOString())}`;
}

function relabel() {
  translatePage();
  if (!state.me || document.getElementById("work").hidden) return;
  renderList();
  renderStations();
  renderCards();
}

// --- the page ------------------------------------------------------------------------------
function refuse(kind) {
  const box = document.getElementById("refused");
  box.hidden = false;
  const target = kind === "dashboard" ? { href: "/dashboard", label: "dashboard" } : { href: "/", label: "finder" };
  render(box, html`<h1>${t("refused_title")}</h1><p>${t("refused_workspace")}</p>
    <p><a href="${target.href}">${t(target.label)}</a> · <a href="/login?next=/workspace">${t("login_other")}</a></p>`);
}

state.me = await header("workspace", relabel);
if (!state.me) {
  location.href = "/login?next=/workspace";
} else if (state.me.role !== "operator") {
  refuse(["regulator", "admin"].includes(state.me.role) ? "dashboard" : "finder");
} else {
  document.getElementById("work").hidden = false;
  const op = await optional(`/api/v1/operators/${encodeURIComponent(state.me.operator_id)}`);
  state.operator = op;
  document.getElementById("ws-operator").textContent = op ? (lang() === "en" ? op.name_en || op.name : op.name) : state.me.operator_id;
  document.getElementById("ws-list").addEventListener("click", onListClick);
  for (const b of document.querySelectorAll("#ws-tabs button")) {
    b.addEventListener("click", () => { state.list = b.dataset.list; renderList(); });
  }
  await Promise.all([loadLists(), loadStations()]);
  await loadScore();
  document.body.dataset.ready = "1";
}

