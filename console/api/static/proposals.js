// The console's parameter change proposals (POLICY.md part 2, "Parameter changes with a preview
// and two pairs of eyes") over /api/proposals: the list in your scope, a form to propose, and a
// proposal's preview (what the cases would pay differently per month and fund, the corrections a
// past effective date causes, a sample of cases before and after) with approve / reject /
// withdraw. "Compute preview" asks the API to compute it from the live store (POST
// /api/proposals/{id}/preview: the events the cases have seen, through the cases' own workflows run
// offline), as `jiuye parameter preview` does. Loaded after console.js, whose element builder `el` it uses; it needs index.html's
// nav button `data-view="proposals"` and its section `#view-proposals`.
(() => {
  "use strict";
  const CATALOG = {
    en: {
      "prop.nav": "Parameter changes",
      "prop.title": "Parameter change proposals",
      "prop.new": "Propose a change",
      "prop.name": "parameter",
      "prop.value": "new value (JSON: fen, [n, d], \"YYYY-MM-DD\")",
      "prop.city": "city (empty = province)",
      "prop.effective_on": "effective from",
      "prop.submit": "Propose",
      "prop.none": "no proposals",
      "prop.col.id": "#",
      "prop.col.name": "parameter",
      "prop.col.value": "value",
      "prop.col.city": "city",
      "prop.col.effective_on": "from",
      "prop.col.proposer": "proposed by",
      "prop.col.status": "status",
      "prop.col.decided_by": "decided by",
      "prop.status.proposed": "awaiting a second supervisor",
      "prop.status.approved": "approved",
      "prop.status.rejected": "rejected",
      "prop.status.withdrawn": "withdrawn",
      "prop.province": "province",
      "prop.preview": "Preview (computed by the cases' own rules)",
      "prop.no_preview": "No preview yet: compute it here, or run `jiuye parameter preview {id}`.",
      "prop.compute": "Compute preview",
      "prop.until": "run to",
      "prop.computing": "Computing the preview from the events the cases have seen…",
      "prop.source.live": "From the live store: {events} event(s) the cases have seen ({records} record(s) read from Kafka), run to {until}.",
      "prop.source.file": "From the events file {scenario}, run to {until}.",
      "prop.touched": "{touched} of {seen} cases change; in all {total}; {corrections} correction(s)",
      "prop.month": "month",
      "prop.fund": "fund",
      "prop.before": "before",
      "prop.after": "after",
      "prop.difference": "difference",
      "prop.corrections": "Corrections the change causes",
      "prop.sample": "Sample of cases, before and after",
      "prop.approve": "Approve",
      "prop.reject": "Reject",
      "prop.withdraw": "Withdraw",
      "prop.reason": "reason",
      "prop.four_eyes": "A second supervisor of the same scope approves; the proposer cannot.",
    },
    "zh-CN": {
      "prop.nav": "参数调整",
      "prop.title": "参数调整提议",
      "prop.new": "提议调整参数",
      "prop.name": "参数",
      "prop.value": "新值（JSON：分、[分子, 分母]、\"YYYY-MM-DD\"）",
      "prop.city": "城市（空 = 全省）",
      "prop.effective_on": "生效日期",
      "prop.submit": "提议",
      "prop.none": "暂无提议",
      "prop.col.id": "编号",
      "prop.col.name": "参数",
      "prop.col.value": "新值",
      "prop.col.city": "城市",
      "prop.col.effective_on": "生效日期",
      "prop.col.proposer": "提议人",
      "prop.col.status": "状态",
      "prop.col.decided_by": "审批人",
      "prop.status.proposed": "待另一名主管审批",
      "prop.status.approved": "已批准",
      "prop.status.rejected": "已驳回",
      "prop.status.withdrawn": "已撤回",
      "prop.province": "全省",
      "prop.preview": "影响预览（按案件自身规则计算）",
      "prop.no_preview": "尚无预览：可在此计算，或运行 `jiuye parameter preview {id}`。",
      "prop.compute": "计算预览",
      "prop.until": "计算至",
      "prop.computing": "正在按案件已收到的事件计算预览……",
      "prop.source.live": "依据系统已存数据：案件已收到的 {events} 条事件（从 Kafka 读取 {records} 条记录），计算至 {until}。",
      "prop.source.file": "依据事件文件 {scenario}，计算至 {until}。",
      "prop.touched": "{seen} 个案件中 {touched} 个发生变化；合计 {total}；更正 {corrections} 笔",
      "prop.month": "月份",
      "prop.fund": "资金",
      "prop.before": "调整前",
      "prop.after": "调整后",
      "prop.difference": "差额",
      "prop.corrections": "追溯生效引起的更正",
      "prop.sample": "案件抽样（调整前后）",
      "prop.approve": "批准",
      "prop.reject": "驳回",
      "prop.withdraw": "撤回",
      "prop.reason": "理由",
      "prop.four_eyes": "须由同一范围的另一名主管批准，提议人本人不能批准。",
    },
  };
  const i18n = typeof I18N === "undefined" ? null : I18N;
  if (i18n) i18n.register(CATALOG);
  const tr = (key, params) => (i18n ? i18n.t(key, params) : (CATALOG.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => params?.[k] ?? ""));
  const node = el;  // console.js's builder
  const yuan = (fen) => (i18n ? i18n.yuan(fen) : `${fen} fen`);
  const city = (c) => (c ? (i18n ? i18n.label("city", c) : c) : tr("prop.province"));
  const fund = (f) => (i18n ? i18n.label("fund", f) : f);
  const month = (m) => (i18n ? i18n.month(m) : m);
  const day = (d) => (i18n ? i18n.date(d) : d);
  const COLUMNS = ["id", "name", "value", "city", "effective_on", "proposer", "status", "decided_by"];
  const cell = (c, p) => c === "city" ? city(p.city) : c === "status" ? tr(`prop.status.${p.status}`)
    : c === "effective_on" ? day(p.effective_on) : c === "value" ? JSON.stringify(p.value) : String(p[c] ?? "");

  async function call(path, options = {}) {
    const response = await fetch(path, { ...options, headers: { "Content-Type": "application/json",
      Authorization: `Bearer ${sessionStorage.getItem("jiuye-token")}` } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`${response.status}: ${body.error || response.statusText}`);
    return body;
  }
  const fail = (e) => { const p = document.querySelector("#proposals-error"); if (p) p.textContent = e ? e.message : ""; };

  function build(section) {
    const form = node("form", { id: "proposal-form", class: "filters", onsubmit: submit },
      node("input", { name: "name", placeholder: tr("prop.name"), required: "" }),
      node("input", { name: "value", placeholder: tr("prop.value"), required: "" }),
      node("input", { name: "city", placeholder: tr("prop.city") }),
      node("label", {}, tr("prop.effective_on") + " ", node("input", { name: "effective_on", type: "date", required: "" })),
      node("button", { type: "submit" }, tr("prop.submit")));
    section.replaceChildren(node("h2", {}, tr("prop.title")), node("p", {}, tr("prop.four_eyes")),
      node("details", {}, node("summary", {}, tr("prop.new")), form),
      node("p", { id: "proposals-error", class: "error", role: "alert" }),
      node("table", { id: "proposals-table" }, node("thead"), node("tbody")), node("div", { id: "proposal-detail" }));
  }

  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.target);
    let value = f.get("value");
    try { value = JSON.parse(value); } catch (_) { /* a bare word is text */ }
    try {
      const made = await call("/api/proposals", { method: "POST", body: JSON.stringify({
        name: f.get("name"), value, city: f.get("city") || null, effective_on: f.get("effective_on") }) });
      await load(); await show(made.id);
    } catch (err) { fail(err); }
  }

  async function load() {
    const section = document.querySelector("#view-proposals");
    if (!section.querySelector("#proposals-table")) build(section);
    try {
      const { items } = await call("/api/proposals");
      const table = section.querySelector("#proposals-table");
      table.querySelector("thead").replaceChildren(node("tr", {}, ...COLUMNS.map((c) => node("th", {}, tr(`prop.col.${c}`)))));
      table.querySelector("tbody").replaceChildren(...(items.length
        ? items.map((p) => node("tr", { class: "clickable", onclick: () => show(p.id) }, ...COLUMNS.map((c) => node("td", { class: `col-${c}` }, cell(c, p)))))
        : [node("tr", {}, node("td", { colspan: String(COLUMNS.length) }, tr("prop.none")))]));
      fail(null);
    } catch (e) { fail(e); }
  }

  function diffTable(rows) {
    return node("table", { class: "proposal-months" },
      node("thead", {}, node("tr", {}, ...["month", "fund", "before", "after", "difference"].map((k) => node("th", {}, tr(`prop.${k}`))))),
      node("tbody", {}, ...rows.map((r) => node("tr", {}, node("td", {}, month(r.month)), node("td", {}, fund(r.fund)),
        node("td", { class: "amount" }, yuan(r.before)), node("td", { class: "amount" }, yuan(r.after)),
        node("td", { class: "amount" }, yuan(r.difference))))));
  }

  async function show(id) {
    const box = document.querySelector("#proposal-detail");
    try {
      const p = await call(`/api/proposals/${id}`);
      const head = node("h3", {}, `#${p.id} ${p.name} = ${JSON.stringify(p.value)} · ${city(p.city)} · ${day(p.effective_on)} · ${tr(`prop.status.${p.status}`)}`);
      const parts = [head];
      const v = p.preview;
      if (!v || v.by_month_and_fund === undefined) {
        parts.push(node("p", {}, tr("prop.no_preview", { id: p.id })));
      } else {
        parts.push(node("h4", {}, tr("prop.preview")),
          node("p", { id: "proposal-source" }, v.events !== undefined
            ? tr("prop.source.live", { events: v.events, records: v.records_read ?? 0, until: day(v.until) })
            : tr("prop.source.file", { scenario: v.scenario, until: day(v.until) })),
          node("p", { id: "proposal-summary" }, tr("prop.touched", { touched: v.cases_touched, seen: v.cases_seen,
            total: yuan(v.total_difference), corrections: v.corrections.length })),
          diffTable(v.by_month_and_fund));
        if (v.corrections.length) {
          parts.push(node("h4", {}, tr("prop.corrections")), node("ul", {}, ...v.corrections.map((c) =>
            node("li", {}, `${c.case_id} · ${c.period} · ${i18n ? i18n.label("ledger_entry", c.entry) : c.entry} ${yuan(c.amount)} — ${(i18n && c.rule_read?.[i18n.lang]) ?? c.rule}`))));
        }
        parts.push(node("h4", {}, tr("prop.sample")), ...v.sample.map((s) => node("div", { class: "proposal-sample" },
          node("strong", {}, `${s.case_id}${s.kind && i18n ? " · " + i18n.label("kind", s.kind) : ""}`), diffTable(s.months))));
      }
      if (p.status === "proposed") {
        const reason = node("input", { id: "proposal-reason", placeholder: tr("prop.reason") });
        const act = (decision) => async () => {
          try {
            await call(`/api/proposals/${p.id}/${decision}`, { method: "POST", body: JSON.stringify({ reason: reason.value || null }) });
            await load(); await show(p.id);
          } catch (e) { fail(e); }
        };
        const until = node("input", { id: "proposal-until", type: "date" });
        const compute = async (e) => {
          const button = e.target;
          button.disabled = true;
          button.textContent = tr("prop.computing");
          try {
            await call(`/api/proposals/${p.id}/preview`, { method: "POST", body: JSON.stringify({ until: until.value || null }) });
            await show(p.id);
          } catch (err) { fail(err); button.disabled = false; button.textContent = tr("prop.compute"); }
        };
        parts.push(node("p", {}, node("label", {}, tr("prop.until") + " ", until),
          node("button", { type: "button", id: "proposal-compute", onclick: compute }, tr("prop.compute"))));
        parts.push(node("p", {}, reason, ...["approve", "reject", "withdraw"].map((d) =>
          node("button", { type: "button", "data-decision": d, onclick: act(d) }, tr(`prop.${d}`)))));
      }
      box.replaceChildren(...parts);
      fail(null);
    } catch (e) { fail(e); }
  }

  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("nav button[data-view]");
    if (button && button.dataset.view === "proposals") load();
  });
  const nav = document.querySelector('nav button[data-view="proposals"]');
  if (nav) nav.textContent = tr("prop.nav");
  window.Proposals = { load, show };
})();
