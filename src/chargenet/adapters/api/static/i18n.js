// Chinese by default, English on request; numbers and times formatted for the language,
// times shown in the platform's local zone (Asia/Shanghai unless configured otherwise).
const WORDS = {
  zh: {
    brand: "充电设施一张网", finder: "找充电桩", dashboard: "监管驾驶舱", login: "登录",
    logout: "退出", language: "English", username: "用户名", password: "密码",
    login_title: "监管人员登录", login_failed: "用户名或密码错误", login_throttled: "失败次数过多，请稍后再试",
    near: "附近充电站", available_now: "仅显示空闲", dc_only: "仅直流快充", min_power: "最低功率 (kW)",
    operator: "运营商", any_operator: "全部运营商", search: "查找", click_map: "点击地图选择位置",
    my_location: "当前位置", results: "结果", no_results: "附近没有符合条件的充电站",
    distance: "距离", free: "空闲", of: "/", price: "价格", per_kwh: "元/kWh", unknown: "未知",
    back: "返回", connectors: "充电枪", opening_hours: "开放时间", address: "地址",
    status_available: "空闲", status_charging: "充电中", status_occupied: "占用", status_reserved: "预约",
    status_blocked: "车位被占", status_unavailable: "停用", status_faulted: "故障", status_offline: "离线",
    state_available: "有空闲", state_busy: "全部占用", state_faulted: "故障/停用", state_offline: "离线",
    area: "区域", overview: "总览", piles: "充电桩", public_piles: "公共桩", fast_piles: "快充桩",
    stations: "充电站", evs: "新能源汽车", ev_per_public_pile: "车桩比 (公共)", ev_per_pile: "车桩比 (全部)",
    availability: "当前可用率", uptime: "在线率 (近30天)", open_alarms: "未处理告警", zombies: "僵尸桩",
    open_orders: "未完成指令", live_map: "实时地图", live_status: "实时状态", plan_vs_actual: "规划目标与实际新增",
    target: "目标", actual: "实际", year: "年份", coverage_gaps: "覆盖缺口", alarms: "告警",
    orders: "指令", scorecards: "运营商评分", reports: "月报", month: "月份", download_xlsx: "下载 Excel",
    open_html: "打印版 (HTML)", progress: "规划进度", not_available: "暂不可用", loading: "加载中…",
    none: "无", counties: "区县边界", roads: "道路", as_of: "数据时间", total: "合计",
    new_piles_metric_public: "新增公共桩", new_piles_metric_total: "新增充电桩",
    station: "充电站", raised_at: "发生时间", severity: "级别", code: "代码", message: "说明",
    issued_at: "下达时间", kind: "类型", outcome: "结果", reason: "原因", target_id: "对象",
    station_name: "充电站", stars: "星级", name: "名称", rank: "排名", uptime_percent: "在线率%",
    operator_id: "运营商", rule: "规则", since: "起始", state: "状态", lat: "纬度", lon: "经度",
    open_data: "开放数据", api_docs: "接口文档", wrong_role: "此账号无权访问监管驾驶舱",
    power: "功率", type: "类型", dc: "直流", ac: "交流", years_note: "按年末在役桩数之差计",
  },
  en: {
    brand: "One charging network", finder: "Find a charger", dashboard: "Regulator dashboard",
    login: "Log in", logout: "Log out", language: "中文", username: "User name", password: "Password",
    login_title: "Log in (officials)", login_failed: "Wrong user name or password",
    login_throttled: "Too many failed logins; try again later",
    near: "Stations nearby", available_now: "Free now only", dc_only: "DC fast only",
    min_power: "Minimum power (kW)", operator: "Operator", any_operator: "Any operator",
    search: "Search", click_map: "Click the map to choose a place", my_location: "My location",
    results: "Results", no_results: "No station nearby passes these filters", distance: "Distance",
    free: "free", of: "/", price: "Price", per_kwh: "CNY/kWh", unknown: "unknown", back: "Back",
    connectors: "Connectors", opening_hours: "Opening hours", address: "Address",
    status_available: "Available", status_charging: "Charging", status_occupied: "Occupied",
    status_reserved: "Reserved", status_blocked: "Bay blocked", status_unavailable: "Out of service",
    status_faulted: "Faulted", status_offline: "Offline",
    state_available: "Has a free connector", state_busy: "All in use", state_faulted: "Faulted / out of service",
    state_offline: "Offline", area: "Area", overview: "Overview", piles: "Piles", public_piles: "Public piles",
    fast_piles: "Fast (DC) piles", stations: "Stations", evs: "EVs", ev_per_public_pile: "EVs per public pile",
    ev_per_pile: "EVs per pile", availability: "Available now", uptime: "Uptime (30 days)",
    open_alarms: "Open alarms", zombies: "Zombie piles", open_orders: "Open orders", live_map: "Live map",
    live_status: "Live status", plan_vs_actual: "Plan vs actual: new piles", target: "Target", actual: "Actual",
    year: "Year", coverage_gaps: "Coverage gaps", alarms: "Alarms", orders: "Orders",
    scorecards: "Operator scorecards", reports: "Monthly report", month: "Month",
    download_xlsx: "Download Excel", open_html: "Print version (HTML)", progress: "Planning progress",
    not_available: "not available", loading: "Loading…", none: "none", counties: "County boundaries",
    roads: "Roads", as_of: "As of", total: "Total", new_piles_metric_public: "New public piles",
    new_piles_metric_total: "New charging piles", station: "Station", raised_at: "Raised",
    severity: "Severity", code: "Code", message: "Message", issued_at: "Issued", kind: "Kind",
    outcome: "Outcome", reason: "Reason", target_id: "Target", station_name: "Station", stars: "Stars",
    name: "Name", rank: "Rank", uptime_percent: "Uptime %", operator_id: "Operator", rule: "Rule",
    since: "Since", state: "State", lat: "Lat", lon: "Lon", open_data: "Open data", api_docs: "API docs",
    wrong_role: "This account may not open the regulator dashboard", power: "Power", type: "Type",
    dc: "DC", ac: "AC", years_note: "difference of piles in service at the year ends",
  },
};

export function lang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "en" || asked === "zh") localStorage.setItem("chargenet.lang", asked);
  return localStorage.getItem("chargenet.lang") === "en" ? "en" : "zh";
}

export function setLang(value) {
  localStorage.setItem("chargenet.lang", value);
  document.documentElement.lang = value === "en" ? "en" : "zh-CN";
}

export function t(key) {
  return WORDS[lang()][key] ?? WORDS.en[key] ?? key;
}

export function locale() {
  return lang() === "en" ? "en-GB" : "zh-CN";
}

let zone = "Asia/Shanghai";
export function setZone(value) { zone = value || zone; }

export function num(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(value);
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso.endsWith("Z") || /[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z");
  return new Intl.DateTimeFormat(locale(), {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  }).format(d);
}

export function kw(watts) {
  return `${num(watts / 1000, watts % 1000 ? 1 : 0)} kW`;
}

export function km(metres) {
  return metres < 1000 ? `${num(metres)} m` : `${num(metres / 1000, 1)} km`;
}

export function areaName(area) {
  if (!area) return "—";
  return lang() === "en" ? (area.name_en || area.name_zh) : area.name_zh;
}

// Fill every element carrying data-t="key" with its words.
export function translatePage(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
}
