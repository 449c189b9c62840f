// The console page: plain JS over the /api routes; the token lives in sessionStorage only.
// Words come from I18N (i18n.js, console-text.js); names of codes from /api/labels.
"use strict";
const { t, label, yuan } = I18N;
const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
};
const day = I18N.date;
// A case's note or rule in the page's language: the reading the API gives beside the raw text
// (console/service/case_texts.py), else the text as it came (e.g. a task list without readings).
const inLang = (read, raw) => read?.[I18N.lang] ?? raw;
const entryIn = (e, field) => e.read?.[I18N.lang]?.[field] ?? e[field];
const casePath = (id) => id.split("/").map(encodeURIComponent).join("/");
let token = sessionStorage.getItem("jiuye-token");
let me = null;
let page = { offset: 0, limit: 25, total: 0 };

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Authorization": `Bearer ${token}`, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  if (!response.ok) {
    let reason = response.statusText;
    try { reason = (await response.json()).error || reason; } catch (_) { /* not JSON */ }
    const error = new Error(`${response.status}: ${reason}`);
    error.status = response.status;
    throw error;
  }
  return response.headers.get("content-type")?.includes("json") ? response.json() : response;
}
const showError = (e) => { $("#error").textContent = e ? e.message : ""; };

// Every select with data-labels="<group>" offers that group's codes by their names (a city
// token's own city only), after an "any" choice when data-any names one; `root` narrows it to the
// selects of a part built later (disbursement.js's filter).
function fillChoices(root = document) {
  for (const select of root.querySelectorAll("select[data-labels]")) {
    let codes = I18N.codes(select.dataset.labels);
    if (select.dataset.labels === "city" && me.city) codes = codes.filter((c) => c === me.city);
    const any = select.dataset.any && !(select.dataset.labels === "city" && me.city) ? [el("option", { value: "" }, t(select.dataset.any))] : [];
    select.replaceChildren(...any, ...codes.map((c) => el("option", { value: c }, label(select.dataset.labels, c))));
  }
}

async function login(candidate) {
  token = candidate.trim();
  try {
    me = await api("/api/me");
    I18N.setLabels(await api("/api/labels"));
  } catch (e) {
    $("#login-error").textContent = e.message;
    token = null;
    return;
  }
  sessionStorage.setItem("jiuye-token", token);
  const scope = me.city ? t("who.city", { name: label("city", me.city), code: me.city }) : t("who.all");
  $("#who").textContent = t("who", { sub: me.sub, role: label("role", me.role), scope });
  $("#login").hidden = true;
  $("#app").hidden = false;
  if (!me.may_act) document.body.classList.add("read-only");
  fillChoices();
  show("cases");
  findCases();
  // A link to a view (#tasks, #dashboard, #disbursement…, as `jiuye demo` prints them) opens it
  // after sign-in, by its nav button so that every script listening to it hears the click.
  const wanted = document.querySelector(`nav button[data-view="${CSS.escape(location.hash.slice(1))}"]`);
  if (wanted) wanted.click();
}

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  for (const b of document.querySelectorAll("nav button[data-view]")) b.classList.toggle("active", b.dataset.view === view);
  if (document.querySelector(`nav button[data-view="${view}"]`)) history.replaceState(null, "", `#${view}`);
  showError(null);
  if (view === "tasks") loadTasks();
  if (view === "dashboard") loadDashboard();
  if (view === "alerts") loadAlerts();
}

async function findCases() {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($("#case-filter"))) if (v) params.set(k, v);
  params.set("limit", page.limit); params.set("offset", page.offset);
  try {
    const result = await api(`/api/cases?${params}`);
    page.total = result.total;
    $("#case-total").textContent = t("cases.total", { total: I18N.integer(result.total),
      from: result.items.length ? result.offset + 1 : 0, to: result.offset + result.items.length });
    $("#case-table tbody").replaceChildren(...result.items.map((c) => el("tr", {},
      el("td", {}, el("a", { class: "case-link", onclick: () => openCase(c.case_id) }, c.case_id)),
      el("td", {}, label("kind", c.kind)), el("td", {}, label("city", c.city)),
      el("td", {}, label("status", c.status) + (c.hold ? t("case.held") : "")),
      el("td", {}, day(c.opened_on)), el("td", {}, day(c.closed_on)), el("td", {}, day(c.next_deadline)),
      el("td", {}, String(c.open_tasks)))));
    showError(null);
  } catch (e) { showError(e); }
}

// A value the case keeps about itself, as it came (its key names what it is), dates and months as
// people write them.
const shownValue = (v) => (v === null ? "-" : typeof v === "object" ? JSON.stringify(v) : I18N.isDate(v) ? day(v) : I18N.month(String(v)));

async function openCase(caseId) {
  try {
    const shown = await api(`/api/cases/${casePath(caseId)}/timeline`);
    show("case");
    const c = shown.case;
    $("#case-title").textContent = `${c.case_id}`;
    const status = label("status", c.status) + (c.hold ? t("case.held_by", { by: c.hold.by, reason: c.hold.reason }) : "");
    const live = shown.state ? t("fact.live_today", { today: day(shown.state.business_today) }) : t("fact.live_unavailable", { why: shown.state_unavailable });
    $("#case-facts").replaceChildren(...[["kind", label("kind", c.kind)], ["city", label("city", c.city)], ["status", status],
      ["subject", c.subject], ["opened", day(c.opened_on)], ["closed", day(c.closed_on) || "-"], ["deadline", day(c.next_deadline) || "-"],
      ["live", live]].map(([k, v]) => el("span", {}, el("b", {}, t(`fact.${k}`) + " "), v ?? "")));
    // What the kind keeps about the case (a loan's terms, a course and its certificate, an
    // incubator's year and selection…): the live state's, else the read model's copy.
    const details = (shown.state && shown.state.details) || c.summary || {};
    $("#case-details").replaceChildren(...Object.entries(details).flatMap(([k, v]) => [el("dt", { title: k }, label("detail", k)), el("dd", {}, detailValue(k, v))]));
    $("#temporal-link").href = shown.links.temporal;
    $("#hold").onclick = () => holdCase(c.case_id, "hold");
    $("#release").onclick = () => holdCase(c.case_id, "release");
    // Entries are typed (contracts/timeline.py): the tag and colour come from `type`; `what` is the
    // case's own words (its record, never parsed here): the page shows its reading in the page's
    // language, the recorded text on hover.
    $("#timeline").replaceChildren(...shown.timeline.map((e) => el("li", { class: e.type },
      el("span", { class: "on" }, day(e.on)), el("span", { class: "tag" }, label("entry_type", e.type)),
      el("span", { class: "what", title: e.what }, entryIn(e, "what")),
      e.amount ? ` — ${yuan(e.amount)}` : "",
      e.event ? el("small", {}, t("timeline.event", { source: e.event.source, id: e.event.id })) : "",
      e.cause ? el("small", {}, t("timeline.cause", { cause: e.cause })) : "",
      e.rule ? el("span", { class: "rule", title: e.rule }, t("timeline.rule", { rule: entryIn(e, "rule") })) : "")));
    $("#paid").textContent = shown.paid_fen != null ? t("ledger.owed_paid", { owed: yuan(shown.owed_fen), paid: yuan(shown.paid_fen) })
      : t("ledger.owed", { owed: yuan(shown.owed_fen) });
    // Corrections are rows of their own (never an edited payment): arrears, an overpayment, the
    // deduction that recovers it — each with the period it corrects and the event that caused it.
    $("#payments tbody").replaceChildren(...shown.payments.map((p) => el("tr", { class: `entry-${p.entry}` },
      el("td", {}, day(p.due_on)), el("td", {}, p.period), el("td", { title: p.program }, label("program", p.program)),
      el("td", { class: "entry" }, label("ledger_entry", p.entry)),
      el("td", { class: "amount" }, yuan(p.amount)), el("td", { title: p.fund }, label("fund", p.fund)), el("td", {}, p.payee),
      el("td", { class: "rule", title: p.rule || "" }, inLang(p.rule_read, p.rule) || ""), el("td", { class: "corrects" }, p.corrects ? `${p.corrects}${p.cause ? " ← " + p.cause : ""}` : ""),
      el("td", { class: "disbursement" }, disbursementOf(p.disbursement)))));
    const corrections = shown.payments.filter((p) => p.entry !== "payment").length;
    $("#corrections").textContent = corrections ? t("ledger.corrections", { n: corrections }) : "";
    $("#case-tasks").replaceChildren(...(shown.tasks.length ? shown.tasks.map((task) => taskCard({ ...task, case_id: c.case_id }, () => openCase(caseId)))
      : [el("p", {}, t("none"))]));
    $("#quarantined").replaceChildren(...(shown.quarantined.length ? shown.quarantined.map((q) => quarantineCard(q, () => openCase(caseId)))
      : [el("p", {}, t("none"))]));
  } catch (e) { showError(e); }
}

// Where a ledger row stands at the treasury (console/service/disbursement.py of_case).
function disbursementOf(d) {
  if (!d) return t("disbursement.none");
  return t("disbursement.row", { status: label("disbursement_status", d.status), attempts: d.attempts })
    + (d.batch_id ? ` · ${t("disbursement.batch", { batch: d.batch_id })}` : "");
}

// An event the case refused (console/service/quarantine.py): re-drive or dismiss it, with a reason.
function quarantineCard(q, refresh) {
  const card = el("div", { class: `task quarantine ${q.status}`, "data-quarantine": String(q.id) },
    el("b", {}, label("quarantine_status", q.status)), " ",
    t("quarantine.refused", { type: q.type, source: q.source, id: q.event_id, reason: q.reason }), el("br"),
    el("small", {}, day(q.event_time.slice(0, 10))));
  if (q.decided_by) card.append(el("br"), el("small", {}, t("quarantine.decided", { by: q.decided_by, at: day(q.decided_at.slice(0, 10)), why: q.decision_reason || "" })));
  if (q.outcome) card.append(el("br"), el("small", {}, t("quarantine.outcome", { outcome: q.outcome })));
  if (q.status === "quarantined" && me.may_act) {
    const reason = el("input", { placeholder: t("quarantine.reason"), class: "quarantine-reason" });
    const act = (action) => async () => {
      try {
        await api(`/api/quarantine/${q.id}/${action}`, { method: "POST", body: JSON.stringify({ reason: reason.value }) });
        refresh();
      } catch (e) { await refresh(); showError(e); }
    };
    card.append(el("br"), reason, el("button", { class: "redrive", onclick: act("redrive") }, t("quarantine.redrive")),
      el("button", { class: "dismiss", onclick: act("dismiss") }, t("quarantine.dismiss")));
  }
  return card;
}

const DECISION_HINTS = {
  taper_decision: '{"months": 6}',
  extra_placement: '{"approve": true, "reason": ""}',
  guarantee_claim: '{"approve": true, "reason": ""}',
  provincial_selection: '{"approve": true, "reason": ""}',
  followup_escalation: '{"handled": true, "note": ""}',
  obligations_overdue: '{"action": "", "note": ""}',
  overpayment_recovery: '{"outcome": "repaid", "reason": ""}',
};

// What the case put on the task for the decider (the loan and its default, the year, the
// overpaid periods…); amounts are fen, shown in yuan; a fund by its name.
function taskFacts(details) {
  const facts = Object.entries(details).filter(([k]) => k !== "rule");
  if (!facts.length) return "";
  const value = (k, v) => (k === "fund" ? label("fund", v) : detailValue(k, v));
  return el("dl", { class: "task-facts" }, ...facts.flatMap(([k, v]) => [el("dt", { title: k }, label("detail", k)), el("dd", {}, value(k, v))]));
}

// A case's or task's detail as people read it: an amount (labels.MONEY_DETAILS) in yuan.
function detailValue(k, v) {
  return typeof v === "number" && I18N.codes("money_detail").includes(k) ? yuan(v) : shownValue(v);
}

function taskCard(task, after) {
  const card = el("div", { class: "task-card", "data-task": task.task_id, "data-kind": task.kind, "data-state": task.state },
    el("strong", {}, label("task_type", task.kind)), ` · ${task.task_id} · ${t("task.due", { due: day(task.due_on) || "-" })} · `,
    `${task.city ? label("city", task.city) : t("task.province")} · `,
    el("span", { class: "task-state" }, label("task_state", task.state)),
    task.details && task.details.rule ? el("div", {}, t("task.rule", { rule: inLang(task.rule_read, task.details.rule) })) : "", taskFacts(task.details || {}));
  if (task.state === "open" && me.may_act) {
    const input = el("textarea", { class: "decision", "aria-label": t("task.decision") });
    input.value = DECISION_HINTS[task.kind] || "{}";
    const message = el("span", { class: "error refusal", role: "alert" });
    const button = el("button", { class: "decide", onclick: async () => {
      let decision;
      try { decision = JSON.parse(input.value); } catch (e) { message.textContent = t("task.not_json", { why: e.message }); return; }
      try {
        await api(`/api/tasks/${casePath(task.task_id)}/decide`, { method: "POST", body: JSON.stringify({ decision }) });
        message.textContent = "";
        card.querySelector(".task-state").textContent = label("task_state", "decided");
        card.dataset.state = "decided";
        button.disabled = true;
        setTimeout(after, 800);
      } catch (e) { message.textContent = e.message; }
    } }, t("task.decide"));
    card.append(el("div", {}, input, " ", button, " ", message));
  } else if (task.decision) {
    card.append(el("div", {}, t("task.decided_by", { by: task.decided_by, decision: JSON.stringify(task.decision) })));
  }
  return card;
}

async function holdCase(caseId, action) {
  try {
    await api(`/api/cases/${casePath(caseId)}/${action}`, { method: "POST", body: JSON.stringify({ reason: $("#hold-reason").value }) });
    openCase(caseId);
  } catch (e) { showError(e); }
}

// The kinds to choose from are the kinds of the open tasks, with their counts (the dashboard's).
async function loadTaskKinds() {
  const chosen = $("#task-kind").value;
  const d = await api("/api/dashboard");
  $("#task-kind").replaceChildren(el("option", { value: "" }, t("tasks.any_kind")),
    ...d.open_tasks.map((k) => el("option", { value: k.kind }, t(k.overdue ? "tasks.kind_count_overdue" : "tasks.kind_count",
      { name: label("task_type", k.kind), open: k.open, overdue: k.overdue }))));
  $("#task-kind").value = chosen;
}

async function loadTasks() {
  try {
    await loadTaskKinds();
    const params = new URLSearchParams({ state: "open", limit: "200" });
    if ($("#task-kind").value) params.set("kind", $("#task-kind").value);
    const result = await api(`/api/tasks?${params}`);
    $("#task-total").textContent = result.total > result.items.length ? t("tasks.total_shown", { total: result.total, shown: result.items.length })
      : t("tasks.total", { total: result.total });
    // A card already shown for a task still open is kept as it is: a refresh (a filter, another
    // card's decision) never wipes a decision someone is typing, or a refusal they are reading.
    const shown = new Map([...document.querySelectorAll("#task-list .task-card")].map((card) => [card.dataset.task, card]));
    $("#task-list").replaceChildren(...(result.items.length ? result.items.map((task) => {
      const kept = shown.get(task.task_id);
      if (kept && kept.dataset.state === task.state) return kept;
      const card = taskCard(task, loadTasks);
      card.prepend(el("a", { onclick: () => openCase(task.case_id) }, task.case_id), el("br"));
      return card;
    }) : [el("p", {}, t("tasks.none"))]));
  } catch (e) { showError(e); }
}

const OPEN_STATUSES = ["active", "paused"];  // workflows/case_base.py OPEN_STATUSES

async function loadDashboard() {
  try {
    const d = await api("/api/dashboard");
    // Liaoning's 14 cities, each always on the chart (a city token: its own), open and closed cases.
    const cities = I18N.codes("city").filter((c) => !d.city || c === d.city);
    const byCity = (city, state) => d.cases.filter((r) => r.city === city && OPEN_STATUSES.includes(r.status) === (state === "open"))
      .reduce((a, r) => a + r.n, 0);
    $("#chart-cities").replaceChildren(...Charts.bars(cities, ["open", "closed"], byCity, {
      format: I18N.integer, nameOf: (c) => `${label("city", c)} ${c}`, seriesName: (s) => t(`dash.${s}`), left: 150 }));
    const kinds = [...new Set(d.cases.map((r) => r.kind))];
    const statuses = [...new Set(d.cases.map((r) => r.status))];
    const count = (k, s) => d.cases.filter((r) => r.kind === k && r.status === s).reduce((a, r) => a + r.n, 0);
    $("#chart-cases").replaceChildren(...(kinds.length ? Charts.bars(kinds, statuses, count, {
      format: I18N.integer, nameOf: (k) => label("kind", k), seriesName: (s) => label("status", s) }) : [el("p", {}, t("none"))]));
    const months = [...new Set(d.payments.map((r) => r.month))];
    const funds = [...new Set(d.payments.map((r) => r.fund))];
    const sum = (m, f) => d.payments.filter((r) => r.month === m && r.fund === f).reduce((a, r) => a + r.amount_fen, 0);
    $("#chart-payments").replaceChildren(...(months.length ? Charts.bars(months, funds, sum, {
      format: yuan, nameOf: I18N.month, seriesName: (f) => label("fund", f), left: 150 }) : [el("p", {}, t("none"))]));
    $("#open-tasks").replaceChildren(el("table", {}, el("tr", {}, el("th", {}, t("col.kind")), el("th", {}, t("dash.count")), el("th", {}, t("dash.overdue"))),
      ...d.open_tasks.map((k) => el("tr", {}, el("td", {}, label("task_type", k.kind)), el("td", {}, String(k.open)), el("td", {}, String(k.overdue))))));
    const alerts = await api("/api/alerts?limit=10");
    $("#alerts").replaceChildren(...(alerts.items.length ? alerts.items.map((a) => el("li", {},
      `${day(a.on_date)} · ${label("city", a.city) || "-"} · ${label("alert_kind", a.kind)} · ${describeAlert(a)}`)) : [el("li", {}, t("dash.no_alerts"))]));
  } catch (e) { showError(e); }
}

// An alert in words: M2 headcount_drop names the enterprise, the two months and their insured
// headcounts; the others show their details as they came.
function describeAlert(a) {
  const d = a.details || {};
  if (a.kind === "headcount_drop" && d.month) {
    return t("alert.headcount_drop", { enterprise: d.enterprise_id || d.enterprise || "", before: I18N.month(d.previous_month),
      before_n: d.previous_headcount, month: I18N.month(d.month), n: d.headcount });
  }
  if (a.kind === "fund_shortfall" && d.runs_out) {
    return t("alert.fund_shortfall", { fund: label("fund", d.fund), year: d.year, budget: yuan(d.budget), spend: yuan(d.spend),
      forecast: yuan(d.forecast), month: I18N.month(d.runs_out) });
  }
  return Object.entries(d).map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
}

async function loadAlerts() {
  const params = new URLSearchParams({ limit: "200" });
  for (const [k, v] of new FormData($("#alert-filter"))) if (v) params.set(k, v);
  try {
    const result = await api(`/api/alerts?${params}`);
    $("#alert-table tbody").replaceChildren(...(result.items.length ? result.items.map((a) => el("tr", { class: `alert-${a.kind}` },
      el("td", {}, day(a.on_date)), el("td", {}, label("city", a.city) || "-"), el("td", {}, label("alert_kind", a.kind)),
      el("td", { class: "what" }, describeAlert(a)))) :
      [el("tr", {}, el("td", { colspan: "4" }, t("alerts.none")))]));
  } catch (e) { showError(e); }
}

I18N.apply();
$("#lang").addEventListener("click", () => I18N.switchTo(I18N.lang === "en" ? "zh-CN" : "en"));
$("#login-form").addEventListener("submit", (e) => { e.preventDefault(); login($("#token").value); });
$("#dev-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const response = await fetch("/api/dev/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub: $("#dev-sub").value, role: $("#dev-role").value, city: $("#dev-city").value || null }) });
  const body = await response.json();
  if (!response.ok) { $("#login-error").textContent = body.error; return; }
  login(body.token);
});
$("#task-filter").addEventListener("submit", (e) => { e.preventDefault(); loadTasks(); });
$("#alert-filter").addEventListener("submit", (e) => { e.preventDefault(); loadAlerts(); });
$("#case-filter").addEventListener("submit", (e) => { e.preventDefault(); page.offset = 0; findCases(); });
$("#prev").addEventListener("click", () => { page.offset = Math.max(0, page.offset - page.limit); findCases(); });
$("#next").addEventListener("click", () => { if (page.offset + page.limit < page.total) { page.offset += page.limit; findCases(); } });
$("#back").addEventListener("click", () => { show("cases"); findCases(); });
$("#logout").addEventListener("click", () => { sessionStorage.removeItem("jiuye-token"); location.reload(); });
for (const b of document.querySelectorAll("nav button[data-view]")) b.addEventListener("click", () => show(b.dataset.view));
$("#ledger-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  try {
    const response = await api(`/api/ledger.csv?city=${encodeURIComponent(form.get("city"))}&month=${encodeURIComponent(form.get("month"))}`);
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `ledger-${form.get("city")}-${form.get("month")}.csv` });
    link.click();
  } catch (err) { showError(err); }
});
if (token) login(token);
