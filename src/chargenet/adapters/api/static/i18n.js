// Chinese by default, English on request; numbers and times formatted for the language,
// times shown in the platform's local zone (Asia/Shanghai unless configured otherwise).
const WORDS = {
  zh: {
    brand: "充电设施一张网", finder: "找充电桩", dashboard: "监管驾驶舱", login: "登录",
    logout: "退出", language: "English", username: "用户名", password: "密码",
    login_title: "监管人员登录", login_failed: "用户名或密码错误", login_throttled: "失败次数过多，请稍后再试",
    near: "附近充电站", available_now: "仅显示空闲", open_now_only: "仅显示当前对外开放",
    public_hours: "对外开放时间", dc_only: "仅直流快充", min_power: "最低功率 (kW)",
    operator: "运营商", any_operator: "全部运营商", search: "查找", click_map: "点击地图选择位置",
    my_location: "当前位置", results: "结果", no_results: "附近没有符合条件的充电站",
    distance: "距离", free: "空闲", of: "/", price: "价格", per_kwh: "元/kWh", unknown: "未知",
    back: "返回", connectors: "充电枪", opening_hours: "开放时间", address: "地址",
    status_available: "空闲", status_charging: "充电中", status_occupied: "占用", status_reserved: "预约",
    status_blocked: "车位被占", status_unavailable: "停用", status_faulted: "故障", status_offline: "离线",
    state_available: "有空闲", state_busy: "全部占用", state_faulted: "故障/停用", state_offline: "离线",
    area: "区域", overview: "总览", piles: "充电桩", public_piles: "公共桩", fast_piles: "快充桩",
    stations: "充电站", evs: "新能源汽车", ev_per_public_pile: "车桩比 (公共)", ev_per_pile: "车桩比 (全部)",
    availability: "当前可用率", uptime: "设备可用率 (近30天)", open_alarms: "未处理告警", zombies: "僵尸桩 (在办)",
    open_orders: "未完成指令", live_map: "实时地图", live_status: "实时状态", plan_vs_actual: "规划目标与实际新增",
    target: "目标", actual: "实际", year: "年份", coverage_gaps: "覆盖缺口", alarms: "告警",
    orders: "指令", scorecards: "运营商评分", reports: "月报", month: "月份", download_xlsx: "下载 Excel", download_pdf: "下载 PDF",
    open_html: "打印版 (HTML)", progress: "规划进度", not_available: "暂不可用", loading: "加载中…",
    none: "无", counties: "区县边界", roads: "道路", as_of: "数据时间", total: "合计",
    new_piles_metric_public: "新增公共桩", new_piles_metric_total: "新增充电桩",
    station: "充电站", raised_at: "发生时间", severity: "级别", code: "代码", message: "说明",
    issued_at: "下达时间", kind: "类型", outcome: "结果", reason: "原因", target_id: "对象",
    station_name: "充电站", stars: "星级", name: "名称", rank: "排名", uptime_percent: "可用率%",
    operator_id: "运营商", rule: "规则", since: "起始", state: "状态", lat: "纬度", lon: "经度",
    open_data: "开放数据", api_docs: "接口文档", wrong_role: "此账号无权访问监管驾驶舱",
    power: "功率", type: "类型", dc: "直流", ac: "交流", years_note: "按年末在役桩数之差计",
    // supervision and planning panels
    uptime_note: "NEVI 口径", uptime_uk: "英国口径", stop_orders_in_force: "生效停止令",
    stop_orders: "停止令", issue_stop: "下达停止令", whole_station: "整站", stop_target: "对象",
    reason_required: "请填写原因", lift: "解除", confirm: "确定", cancel: "取消",
    acknowledge: "确认", clear: "清除", acknowledged: "已确认", actions: "操作",
    stopped_by_order: "停止令", state_stopped: "停止令停运", sending: "发送中…",
    action_failed: "操作失败", issued_by: "下达人", deliveries: "送达", lifted_at: "解除时间",
    stop_state_issued: "待回复", stop_state_in_force: "生效中", stop_state_partial: "部分送达",
    stop_state_lifted: "已解除", outcome_accepted: "已执行", outcome_rejected: "被拒绝",
    outcome_timeout: "超时", outcome_failed: "未送达", outcome_notified: "已通知运营商",
    severity_critical: "严重", severity_major: "重要", severity_warning: "警告", severity_info: "提示",
    alarm_ground_fault: "接地故障", alarm_over_temperature: "过温", alarm_over_current: "过流",
    alarm_over_voltage: "过压", alarm_under_voltage: "欠压", alarm_power_switch_failure: "功率开关故障",
    alarm_emergency_stop: "急停", alarm_insulation_fault: "绝缘故障", alarm_smoke: "烟雾", alarm_fire: "火情",
    alarm_tamper: "防拆报警", alarm_firmware_tampered: "固件被篡改", alarm_invalid_firmware: "固件签名无效",
    alarm_memory_exhaustion: "内存耗尽", alarm_repeated_faults: "频繁故障",
    rule_never_connected: "从未接入", rule_long_down: "长期停运", rule_idle_available: "长期空闲",
    rule_failing_sessions: "充电成功率过低", stage_detected: "已发现", stage_notified: "已通知",
    stage_escalated: "已升级督办", stage_closed: "已关闭", detected_at: "发现时间", charger_id: "充电桩",
    rules: "认定规则", stage: "阶段", deadline: "整改期限", escalation_level: "升级次数",
    score: "得分", repair_h: "修复时长中位数(小时)", zombies_per_100: "僵尸桩/百桩",
    sessions_ok: "充电成功率%", alarms_per_100: "告警/百枪", completeness: "数据完整率%",
    plan_met: "已完成", plan_missed: "未完成", plan_on_track: "按计划推进", plan_behind: "进度滞后",
    plan_not_started: "未开始", plan_no_data: "无数据", forecast: "年末预测", no_targets_year: "该年度无新增目标",
    plan_counted: "按投运日计的新增桩 (规划口径)", gaps_in: "覆盖缺口", none_found: "无",
    gap_area_distance: "村庄充电距离超标", gap_zone_distance: "城区充电距离超标",
    gap_area_presence: "乡镇/村无公共桩", gap_road_spacing: "沿路充电站间距过大",
    gap_area_minimum: "集中式充电站不足", nearest_charger: "最近充电桩", required_max: "要求不超过",
    no_public_pile: "无公共充电桩", gap_length: "间距", new_stations: "需新建站",
    cmp_title: "规划方案对比", cmp_note: "已保存方案并列比较", cmp_pick: "勾选 2–3 个已保存的方案后点击对比",
    cmp_go: "对比", cmp_planning: "正在测算各方案…", cmp_none_saved: "本区域尚无已保存的规划方案",
    cmp_figure: "指标", cmp_sites: "新建站点", cmp_upgraded: "扩容现有站", cmp_ports_ac: "交流桩 (新增)",
    cmp_ports_dc: "直流快充桩 (新增)", cmp_ports_ultra: "超级快充桩 (新增)", cmp_capex: "建设投资",
    cmp_opex_year: "年运营费用", cmp_total_cost: "总成本 (含运营现值)", cmp_coverage: "行政村覆盖率",
    cmp_demand_kwh: "日充电需求 (kWh)", cmp_unmet_kwh: "未满足需求 (kWh/日)", cmp_uncovered: "未覆盖行政村",
    cmp_currency: "金额单位:",
    build_next: "建议新建站点", site_reasons: "对应规则", piles_needed: "需建桩数", solver_optimal: "求解最优",
    new_in_month: "本月新增公共桩", ytd_new: "年内新增公共桩", year_target: "年度目标", done_percent: "完成率",
    public_in_service: "在役公共桩", village_cover: "村庄覆盖 (达标/总数)", on_track: "进度",
    on_track_yes: "正常", on_track_no: "需关注", report_due: "报送截止", planning_unit: "规划单元",
    for_year: "年度", last_30_days: "近30天", flag_behind: "进度滞后", flag_forecast_short: "预计年末不达标",
    flag_coverage: "覆盖未达标",
    // finder for drivers
    place_search: "搜索地点", place_placeholder: "搜索区县、乡镇、充电站或地址", filters: "筛选",
    apply_filters: "应用筛选", list_view: "列表", map_view: "地图", fast_free: "快充空闲",
    slow_free: "慢充空闲", open_now: "营业中", closed_now: "未营业", navigate: "导航",
    nav_amap: "高德地图", nav_baidu: "百度地图", nav_apple: "Apple 地图", all_day: "24小时",
    price_source_observed: "近30天实际充电均价（非公示价格）", price_source_tariff: "运营商公示价格",
    no_time_of_day: "暂无分时电价", parking_fee: "停车费", per_hour: "元/小时",
    parking_source_ocpi_tariff: "运营商公示资费（OCPI 停车时长计费）", parking_source_tcec: "运营商公示说明", no_places: "没有找到这个地点",
    plug_gbt_dc: "国标直流 (GB/T)", plug_gbt_ac: "国标交流 (GB/T)", plug_ccs2: "欧标直流 CCS2",
    plug_ccs1: "美标直流 CCS1", plug_type2: "欧标交流 Type 2", plug_chademo: "日标直流 CHAdeMO",
    plug_chaoji: "超级充电 ChaoJi", plug_household: "家用插座", plug_other: "其他接口",
    level_province: "省", level_city: "市", level_county: "区县", level_township: "乡镇街道",
    level_village: "村/社区", skip_to_content: "跳到主要内容", menu: "菜单",
    // the operator's workspace
    workspace: "运营商工作台", my_operator: "我的运营数据", addressed_to_you: "监管待办", refused_data: "被拒收的数据",
    my_stations: "我的充电站", my_scorecard: "我的评分", overdue: "已逾期", reported: "已报告整改",
    report_rectification: "报告整改", rectification: "整改", rectification_note: "整改说明（做了什么）",
    send: "提交", received_at: "接收时间", adapter: "来源", refused_title: "无权访问此页面",
    refused_workspace: "此页面属于其他角色。您的账号可以使用以下页面：", login_other: "换一个账号登录",
    refused_dashboard: "监管驾驶舱仅供监管人员和管理员使用。",
    // orderly charging (有序充电)
    orderly: "有序充电", orderly_whole_area: "全区域受管站", orderly_day: "日期", orderly_span: "时长",
    days_1: "1天", days_7: "7天", days_30: "30天", load: "负荷", limit: "限额", dr_limit: "需求响应限额",
    dr_event: "需求响应", valley_share: "谷电占比", peak_load: "最大负荷", flexibility: "未来可调节负荷",
    flex_sessions: "在充车辆可调", flex_arrivals: "预计到站可调", expected_load: "预计负荷",
    no_managed: "本区域暂无受管充电站",
    dr_call: "发起需求响应", dr_from: "开始", dr_to: "结束", dr_share: "允许负荷（限额的%）",
    dr_reason: "事由（如：电网调峰）", dr_call_button: "下达", dr_called: "已下达需求响应",
    dr_scope_area: "范围：全区域受管站", dr_scope_station: "范围：所选充电站",
    trends: "趋势", time_range: "时间范围", months_6: "近6个月", months_12: "近12个月", months_24: "近24个月",
    uptime_short: "可用率%", alarms_raised: "新增告警", valley_share_pct: "谷时充电占比%", progress_map: "规划目标进度",
  },
  en: {
    brand: "One charging network", finder: "Find a charger", dashboard: "Regulator dashboard",
    login: "Log in", logout: "Log out", language: "中文", username: "User name", password: "Password",
    login_title: "Log in (officials)", login_failed: "Wrong user name or password",
    login_throttled: "Too many failed logins; try again later",
    near: "Stations nearby", available_now: "Free now only", open_now_only: "Open to the public now only",
    public_hours: "Public hours", dc_only: "DC fast only",
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
    open_alarms: "Open alarms", zombies: "Zombie piles (open)", open_orders: "Open orders", live_map: "Live map",
    live_status: "Live status", plan_vs_actual: "Plan vs actual: new piles", target: "Target", actual: "Actual",
    year: "Year", coverage_gaps: "Coverage gaps", alarms: "Alarms", orders: "Orders",
    scorecards: "Operator scorecards", reports: "Monthly report", month: "Month",
    download_xlsx: "Download Excel", download_pdf: "Download PDF", open_html: "Print version (HTML)", progress: "Planning progress",
    not_available: "not available", loading: "Loading…", none: "none", counties: "County boundaries",
    roads: "Roads", as_of: "As of", total: "Total", new_piles_metric_public: "New public piles",
    new_piles_metric_total: "New charging piles", station: "Station", raised_at: "Raised",
    severity: "Severity", code: "Code", message: "Message", issued_at: "Issued", kind: "Kind",
    outcome: "Outcome", reason: "Reason", target_id: "Target", station_name: "Station", stars: "Stars",
    name: "Name", rank: "Rank", uptime_percent: "Uptime %", operator_id: "Operator", rule: "Rule",
    since: "Since", state: "State", lat: "Lat", lon: "Lon", open_data: "Open data", api_docs: "API docs",
    wrong_role: "This account may not open the regulator dashboard", power: "Power", type: "Type",
    dc: "DC", ac: "AC", years_note: "difference of piles in service at the year ends",
    uptime_note: "NEVI method", uptime_uk: "UK method", stop_orders_in_force: "Stop orders in force",
    stop_orders: "Stop orders", issue_stop: "Issue stop order", whole_station: "Whole station",
    stop_target: "Target", reason_required: "Give a reason", lift: "Lift", confirm: "Confirm",
    cancel: "Cancel", acknowledge: "Acknowledge", clear: "Clear", acknowledged: "Acknowledged",
    actions: "Actions", stopped_by_order: "Stop order", state_stopped: "Stopped by order",
    sending: "Sending…", action_failed: "Failed", issued_by: "Issued by", deliveries: "Delivery",
    lifted_at: "Lifted", stop_state_issued: "Awaiting answers", stop_state_in_force: "In force",
    stop_state_partial: "Partly delivered", stop_state_lifted: "Lifted", outcome_accepted: "accepted",
    outcome_rejected: "rejected", outcome_timeout: "timed out", outcome_failed: "not delivered",
    outcome_notified: "operator notified", severity_critical: "Critical", severity_major: "Major",
    severity_warning: "Warning", severity_info: "Info", alarm_ground_fault: "Ground fault",
    alarm_over_temperature: "Over-temperature", alarm_over_current: "Over-current",
    alarm_over_voltage: "Over-voltage", alarm_under_voltage: "Under-voltage",
    alarm_power_switch_failure: "Power switch failure", alarm_emergency_stop: "Emergency stop",
    alarm_insulation_fault: "Insulation fault", alarm_smoke: "Smoke", alarm_fire: "Fire",
    alarm_tamper: "Tamper", alarm_firmware_tampered: "Firmware tampered",
    alarm_invalid_firmware: "Invalid firmware", alarm_memory_exhaustion: "Memory exhausted",
    alarm_repeated_faults: "Repeated faults", rule_never_connected: "Never connected",
    rule_long_down: "Down for long", rule_idle_available: "Idle, no sessions",
    rule_failing_sessions: "Sessions failing", stage_detected: "Detected", stage_notified: "Operator notified",
    stage_escalated: "Escalated", stage_closed: "Closed", detected_at: "Detected", charger_id: "Charger",
    rules: "Rules", stage: "Stage", deadline: "Deadline", escalation_level: "Escalations", score: "Score",
    repair_h: "Median repair (h)", zombies_per_100: "Zombies per 100", sessions_ok: "Sessions OK %",
    alarms_per_100: "Alarms per 100", completeness: "Data complete %", plan_met: "Met",
    plan_missed: "Missed", plan_on_track: "On track", plan_behind: "Behind", plan_not_started: "Not started",
    plan_no_data: "No data", forecast: "Year-end forecast", no_targets_year: "No build target for this year",
    plan_counted: "new piles by commissioning day (planning's count)", gaps_in: "Coverage gaps",
    none_found: "none", gap_area_distance: "Villages too far from a charger",
    gap_zone_distance: "City points too far from a charger", gap_area_presence: "Townships/villages without a public pile",
    gap_road_spacing: "Stations too far apart along roads", gap_area_minimum: "Too few central stations",
    nearest_charger: "nearest charger", required_max: "allowed", no_public_pile: "no public pile",
    cmp_title: "Planning scenarios side by side", cmp_note: "saved scenarios compared",
    cmp_pick: "Tick 2–3 saved scenarios, then compare", cmp_go: "Compare",
    cmp_planning: "Planning each scenario…", cmp_none_saved: "No planning scenario saved for this area yet",
    cmp_figure: "Figure", cmp_sites: "New sites", cmp_upgraded: "Stations upgraded", cmp_ports_ac: "AC ports (new)",
    cmp_ports_dc: "DC fast ports (new)", cmp_ports_ultra: "Ultra-fast ports (new)", cmp_capex: "Capital cost",
    cmp_opex_year: "Operating cost a year", cmp_total_cost: "Total cost (operating as present value)",
    cmp_coverage: "Villages covered", cmp_demand_kwh: "Demand (kWh a day)",
    cmp_unmet_kwh: "Unmet demand (kWh a day)", cmp_uncovered: "Villages out of reach", cmp_currency: "Money in",
    gap_length: "gap", new_stations: "new stations", build_next: "Where to build next",
    site_reasons: "closes", piles_needed: "piles", solver_optimal: "optimal",
    new_in_month: "New public in month", ytd_new: "New public this year", year_target: "Year target",
    done_percent: "Done", public_in_service: "Public piles", village_cover: "Villages covered",
    on_track: "Progress", on_track_yes: "on track", on_track_no: "needs attention", report_due: "Report due",
    planning_unit: "planning unit", for_year: "year", last_30_days: "last 30 days",
    flag_behind: "behind pace", flag_forecast_short: "forecast short", flag_coverage: "coverage unmet",
    place_search: "Search a place", place_placeholder: "County, township, station or address",
    filters: "Filters", apply_filters: "Apply filters", list_view: "List", map_view: "Map",
    fast_free: "fast free", slow_free: "slow free", open_now: "Open now", closed_now: "Closed now",
    navigate: "Navigate", nav_amap: "Amap (高德)", nav_baidu: "Baidu Maps", nav_apple: "Apple Maps",
    all_day: "24 hours", price_source_observed: "average paid over the last 30 days (not a published price)",
    price_source_tariff: "the operator's published price", no_time_of_day: "no time-of-day tariff published",
    parking_fee: "Parking fee", per_hour: "CNY/hour",
    parking_source_ocpi_tariff: "the operator's published tariff (OCPI parking time)", parking_source_tcec: "the operator's published note",
    no_places: "No such place found", plug_gbt_dc: "GB/T DC (China)", plug_gbt_ac: "GB/T AC (China)",
    plug_ccs2: "CCS2 (DC)", plug_ccs1: "CCS1 (DC)", plug_type2: "Type 2 (AC)", plug_chademo: "CHAdeMO (DC)",
    plug_chaoji: "ChaoJi (DC)", plug_household: "Household socket", plug_other: "Other",
    level_province: "province", level_city: "city", level_county: "county", level_township: "township",
    level_village: "village", skip_to_content: "Skip to content", menu: "Menu",
    workspace: "Operator workspace", my_operator: "My operations", addressed_to_you: "From the regulator",
    refused_data: "Refused data", my_stations: "My stations", my_scorecard: "My scorecard", overdue: "overdue",
    reported: "rectification reported", report_rectification: "Report rectification", rectification: "Rectification",
    rectification_note: "What was done", send: "Send", received_at: "Received", adapter: "Source",
    refused_title: "This page is not for your role", refused_workspace: "This page belongs to another role. Your account can use:",
    login_other: "Log in with another account", refused_dashboard: "The regulator dashboard is for regulators and administrators.",
    // orderly charging
    orderly: "Orderly charging", orderly_whole_area: "All managed stations", orderly_day: "Day", orderly_span: "Span",
    days_1: "1 day", days_7: "7 days", days_30: "30 days", load: "Load", limit: "Limit", dr_limit: "Demand-response limit",
    dr_event: "Demand response", valley_share: "Valley share", peak_load: "Peak load", flexibility: "Flexible load ahead",
    flex_sessions: "Deferrable, plugged in", flex_arrivals: "Deferrable, expected arrivals", expected_load: "Expected load",
    no_managed: "No managed stations in this area",
    dr_call: "Call a demand-response event", dr_from: "From", dr_to: "To", dr_share: "Load allowed (% of limit)",
    dr_reason: "Reason (e.g. grid peak)", dr_call_button: "Call", dr_called: "Demand response called",
    dr_scope_area: "Scope: all managed stations of the area", dr_scope_station: "Scope: the chosen station",
    trends: "Trends", time_range: "Time range", months_6: "Last 6 months", months_12: "Last 12 months",
    months_24: "Last 24 months", uptime_short: "Uptime %", alarms_raised: "Alarms raised", valley_share_pct: "Valley-hour share %", progress_map: "Target progress",
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
export function zoneName() { return zone; }

// A wall-clock time in the platform's zone ("2026-11-25T18:00", as a datetime-local input
// holds it) as an instant in UTC (ISO 8601); the API takes times with their offset.
export function utcOf(wall) {
  const asUtc = new Date(wall.length === 16 ? `${wall}:00Z` : `${wall}Z`);
  const offset = (d) => {
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(d).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - d.getTime();
  };
  // Twice: the zone's offset at the instant itself, not at the wall time read as UTC
  // (they differ across a daylight-saving change).
  const first = asUtc.getTime() - offset(asUtc);
  return new Date(asUtc.getTime() - offset(new Date(first))).toISOString();
}

// The wall-clock time in the platform's zone of an instant, as a datetime-local input takes it.
export function wallOf(date) {
  return new Intl.DateTimeFormat("sv-SE", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).format(date).replace(" ", "T");
}

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
