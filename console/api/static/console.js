// The console page: plain JS over the /api routes; the token lives in sessionStorage only.
"use strict";
const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
};
const yuan = (fen) => (fen / 100).toFixed(2);
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

async function login(candidate) {
  token = candidate.trim();
  try {
    me = await api("/api/me");
  } catch (e) {
    $("#login-error").textContent = e.message;
    token = null;
    return;
  }
  sessionStorage.setItem("jiuye-token", token);
  $("#who").textContent = `${me.sub} · ${me.role}${me.city ? " · city " + me.city : " · all cities"}`;
  $("#login").hidden = true;
  $("#app").hidden = false;
  if (!me.may_act) document.body.classList.add("read-only");
  show("cases");
  findCases();
}

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  for (const b of document.querySelectorAll("nav button[data-view]")) b.classList.toggle("active", b.dataset.view === view);
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
    $("#case-total").textContent = `${result.total} case(s); showing ${result.items.length ? result.offset + 1 : 0}–${result.offset + result.items.length}`;
    const body = $("#case-table tbody");
    body.replaceChildren(...result.items.map((c) => el("tr", {},
      el("td", {}, el("a", { class: "case-link", onclick: () => openCase(c.case_id) }, c.case_id)),
      el("td", {}, c.kind), el("td", {}, c.city), el("td", {}, c.status + (c.hold ? " (held)" : "")),
      el("td", {}, c.opened_on), el("td", {}, c.closed_on || ""), el("td", {}, c.next_deadline || ""), el("td", {}, String(c.open_tasks)))));
    showError(null);
  } catch (e) { showError(e); }
}

async function openCase(caseId) {
  try {
    const shown = await api(`/api/cases/${caseId.split("/").map(encodeURIComponent).join("/")}/timeline`);
    show("case");
    const c = shown.case;
    $("#case-title").textContent = `${c.case_id}`;
    $("#case-facts").replaceChildren(...[["kind", c.kind], ["city", c.city], ["status", c.status + (c.hold ? ` — held by ${c.hold.by}: ${c.hold.reason}` : "")],
      ["subject", c.subject], ["opened", c.opened_on], ["closed", c.closed_on || "-"], ["next deadline", c.next_deadline || "-"],
      ["live state", shown.state ? `business today ${shown.state.business_today}` : `unavailable: ${shown.state_unavailable}`]]
      .map(([k, v]) => el("span", {}, el("b", {}, k + " "), v ?? "")));
    // What the kind keeps about the case (a loan's terms, a course and its certificate, an
    // incubator's year and selection…): the live state's, else the read model's copy.
    const details = (shown.state && shown.state.details) || c.summary || {};
    $("#case-details").replaceChildren(...Object.entries(details).flatMap(([k, v]) => [el("dt", {}, k),
      el("dd", {}, v === null ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v))]));
    $("#temporal-link").href = shown.links.temporal;
    $("#hold").onclick = () => holdCase(c.case_id, "hold");
    $("#release").onclick = () => holdCase(c.case_id, "release");
    $("#timeline").replaceChildren(...shown.timeline.map((t) => el("li", { class: t.type },
      el("span", { class: "on" }, t.on), el("span", { class: "tag" }, t.type), t.what,
      t.amount ? ` — ${yuan(t.amount)} yuan` : "",
      t.event ? el("small", {}, ` (event ${t.event.source} #${t.event.id})`) : "",
      t.cause ? el("small", {}, ` (caused by ${t.cause})`) : "",
      t.rule ? el("span", { class: "rule" }, `rule: ${t.rule}`) : "")));
    $("#paid").textContent = `(owed ${yuan(shown.owed_fen)} yuan net${shown.paid_fen != null ? `, paid ${yuan(shown.paid_fen)} yuan` : ""})`;
    // Corrections are rows of their own (never an edited payment): arrears, an overpayment, the
    // deduction that recovers it — each with the period it corrects and the event that caused it.
    $("#payments tbody").replaceChildren(...shown.payments.map((p) => el("tr", { class: `entry-${p.entry}` },
      el("td", {}, p.due_on), el("td", {}, p.period), el("td", {}, p.program), el("td", { class: "entry" }, p.entry),
      el("td", { class: "amount" }, yuan(p.amount)), el("td", {}, p.fund), el("td", {}, p.payee), el("td", {}, p.rule || ""),
      el("td", { class: "corrects" }, p.corrects ? `${p.corrects}${p.cause ? " ← " + p.cause : ""}` : ""))));
    const corrections = shown.payments.filter((p) => p.entry !== "payment").length;
    $("#corrections").textContent = corrections ? `${corrections} correction(s)` : "";
    $("#case-tasks").replaceChildren(...(shown.tasks.length ? shown.tasks.map((t) => taskCard({ ...t, case_id: c.case_id }, () => openCase(caseId))) : [el("p", {}, "none")]));
  } catch (e) { showError(e); }
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
// overpaid periods…); amounts are fen.
function taskFacts(details) {
  const facts = Object.entries(details).filter(([k]) => k !== "rule");
  if (!facts.length) return "";
  return el("dl", { class: "task-facts" }, ...facts.flatMap(([k, v]) => [el("dt", {}, k),
    el("dd", {}, k === "amount" && typeof v === "number" ? `${yuan(v)} yuan` : typeof v === "object" ? JSON.stringify(v) : String(v))]));
}

function taskCard(t, after) {
  const card = el("div", { class: "task-card", "data-task": t.task_id, "data-kind": t.kind },
    el("strong", {}, t.kind), ` · ${t.task_id} · due ${t.due_on || "-"} · ${t.city ? "city " + t.city : "province"} · `,
    el("span", { class: "task-state" }, t.state),
    t.details && t.details.rule ? el("div", {}, `rule: ${t.details.rule}`) : "", taskFacts(t.details || {}));
  if (t.state === "open" && me.may_act) {
    const input = el("textarea", { class: "decision", "aria-label": "decision (JSON)" });
    input.value = DECISION_HINTS[t.kind] || "{}";
    const message = el("span", { class: "error refusal", role: "alert" });
    const button = el("button", { class: "decide", onclick: async () => {
      let decision;
      try { decision = JSON.parse(input.value); } catch (e) { message.textContent = `not JSON: ${e.message}`; return; }
      try {
        await api(`/api/tasks/${t.task_id.split("/").map(encodeURIComponent).join("/")}/decide`, { method: "POST", body: JSON.stringify({ decision }) });
        message.textContent = "";
        card.querySelector(".task-state").textContent = "decided";
        button.disabled = true;
        setTimeout(after, 800);
      } catch (e) { message.textContent = e.message; }
    } }, "Decide");
    card.append(el("div", {}, input, " ", button, " ", message));
  } else if (t.decision) {
    card.append(el("div", {}, `decided by ${t.decided_by}: ${JSON.stringify(t.decision)}`));
  }
  return card;
}

async function holdCase(caseId, action) {
  try {
    await api(`/api/cases/${caseId.split("/").map(encodeURIComponent).join("/")}/${action}`, { method: "POST", body: JSON.stringify({ reason: $("#hold-reason").value }) });
    openCase(caseId);
  } catch (e) { showError(e); }
}

// The kinds to choose from are the kinds of the open tasks, with their counts (the dashboard's).
async function loadTaskKinds() {
  const chosen = $("#task-kind").value;
  const d = await api("/api/dashboard");
  $("#task-kind").replaceChildren(el("option", { value: "" }, "every kind"),
    ...d.open_tasks.map((t) => el("option", { value: t.kind }, `${t.kind} (${t.open} open${t.overdue ? ", " + t.overdue + " overdue" : ""})`)));
  $("#task-kind").value = chosen;
}

async function loadTasks() {
  try {
    await loadTaskKinds();
    const params = new URLSearchParams({ state: "open", limit: "200" });
    if ($("#task-kind").value) params.set("kind", $("#task-kind").value);
    const result = await api(`/api/tasks?${params}`);
    $("#task-total").textContent = `(${result.total}${result.total > result.items.length ? ", showing " + result.items.length : ""})`;
    $("#task-list").replaceChildren(...(result.items.length ? result.items.map((t) => {
      const card = taskCard(t, loadTasks);
      card.prepend(el("a", { onclick: () => openCase(t.case_id) }, t.case_id), el("br"));
      return card;
    }) : [el("p", {}, "no open tasks")]));
  } catch (e) { showError(e); }
}

// Charts: inline SVG bars, nothing fetched from anywhere.
const PALETTE = ["#1c7ed6", "#37b24d", "#f59f00", "#e03131", "#7048e8", "#0ca678", "#868e96"];
function barChart(groups, seriesNames, valueOf, format = String) {
  const width = 760, barH = 18, gap = 6, left = 200;
  const totals = groups.map((g) => seriesNames.reduce((s, n) => s + (valueOf(g, n) || 0), 0));
  const max = Math.max(1, ...totals);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", width); svg.setAttribute("height", groups.length * (barH + gap) + 10);
  groups.forEach((g, i) => {
    const y = 5 + i * (barH + gap);
    const label = document.createElementNS(svg.namespaceURI, "text");
    label.setAttribute("x", 4); label.setAttribute("y", y + 13); label.textContent = g;
    svg.append(label);
    let x = left;
    seriesNames.forEach((n, j) => {
      const v = valueOf(g, n) || 0; if (!v) return;
      const w = (v / max) * (width - left - 90);
      const rect = document.createElementNS(svg.namespaceURI, "rect");
      rect.setAttribute("x", x); rect.setAttribute("y", y); rect.setAttribute("width", Math.max(w, 1)); rect.setAttribute("height", barH);
      rect.setAttribute("fill", PALETTE[j % PALETTE.length]);
      const title = document.createElementNS(svg.namespaceURI, "title"); title.textContent = `${g} · ${n}: ${format(v)}`;
      rect.append(title); svg.append(rect); x += w;
    });
    const total = document.createElementNS(svg.namespaceURI, "text");
    total.setAttribute("x", x + 4); total.setAttribute("y", y + 13); total.textContent = format(totals[i]);
    svg.append(total);
  });
  const legend = el("div", { class: "legend" }, ...seriesNames.map((n, j) => el("span", {}, el("i", { style: `background:${PALETTE[j % PALETTE.length]}` }), n)));
  return [svg, legend];
}

async function loadDashboard() {
  try {
    const d = await api("/api/dashboard");
    const kinds = [...new Set(d.cases.map((r) => r.kind))];
    const statuses = [...new Set(d.cases.map((r) => r.status))];
    const count = (k, s) => d.cases.filter((r) => r.kind === k && r.status === s).reduce((a, r) => a + r.n, 0);
    $("#chart-cases").replaceChildren(...barChart(kinds, statuses, count));
    const months = [...new Set(d.payments.map((r) => r.month))];
    const funds = [...new Set(d.payments.map((r) => r.fund))];
    const sum = (m, f) => d.payments.filter((r) => r.month === m && r.fund === f).reduce((a, r) => a + r.amount_fen, 0);
    $("#chart-payments").replaceChildren(...barChart(months, funds, sum, (v) => `${yuan(v)} yuan`));
    $("#open-tasks").replaceChildren(el("table", {}, el("tr", {}, el("th", {}, "kind"), el("th", {}, "open"), el("th", {}, "overdue")),
      ...d.open_tasks.map((t) => el("tr", {}, el("td", {}, t.kind), el("td", {}, String(t.open)), el("td", {}, String(t.overdue))))));
    const alerts = await api("/api/alerts?limit=10");
    $("#alerts").replaceChildren(...(alerts.items.length ? alerts.items.map((a) => el("li", {}, `${a.on_date} · ${a.city || "-"} · ${a.kind} · ${describeAlert(a)}`)) : [el("li", {}, "no alerts")]));
  } catch (e) { showError(e); }
}

// An alert in words: M2 headcount_drop names the enterprise, the two months and their insured
// headcounts; the others show their details as they came.
function describeAlert(a) {
  const d = a.details || {};
  if (a.kind === "headcount_drop" && d.month) {
    const enterprise = d.enterprise_id || d.enterprise || "";
    return `enterprise ${enterprise}: ${d.previous_month} ${d.previous_headcount} → ${d.month} ${d.headcount} insured persons`;
  }
  return Object.entries(d).map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
}

async function loadAlerts() {
  const params = new URLSearchParams({ limit: "200" });
  for (const [k, v] of new FormData($("#alert-filter"))) if (v) params.set(k, v);
  try {
    const result = await api(`/api/alerts?${params}`);
    $("#alert-table tbody").replaceChildren(...(result.items.length ? result.items.map((a) => el("tr", { class: `alert-${a.kind}` },
      el("td", {}, a.on_date), el("td", {}, a.city || "-"), el("td", {}, a.kind), el("td", { class: "what" }, describeAlert(a)))) :
      [el("tr", {}, el("td", { colspan: "4" }, "no alerts"))]));
  } catch (e) { showError(e); }
}

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
