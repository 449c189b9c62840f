// The console's disbursement views (POLICY.md part 2) over /api/disbursement/{view}: batches,
// returned payments, accounts awaited, reconciliation per day, and on the dashboard paid against
// settled per fund and month. Loaded after console.js, whose element builder `el` it uses; its own
// state stays in a closure. It needs two hooks of index.html: the nav button
// `data-view="disbursement"` with its section `#view-disbursement`, and `#disbursement-dashboard`.
(() => {
  "use strict";
  // Every string a person reads, in one catalog registered with I18N (i18n.js, loaded before this
  // script; its `const I18N` is a global binding, not a property of window, hence typeof).
  const CATALOG = {
    en: {
      "disb.nav": "Disbursement",
      "disb.batches": "Payment batches",
      "disb.returned": "Returned payments",
      "disb.awaiting": "Accounts awaited",
      "disb.reconciliation": "Reconciliation",
      "disb.city": "city",
      "disb.from": "from",
      "disb.to": "to",
      "disb.show": "Show",
      "disb.csv": "Export CSV",
      "disb.none": "none",
      "disb.rows": "row(s)",
      "disb.total": "total",
      "disb.col.batch_id": "batch",
      "disb.col.city": "city",
      "disb.col.fund": "fund",
      "disb.col.on_date": "day",
      "disb.col.day": "day",
      "disb.col.count": "count",
      "disb.col.total_fen": "amount",
      "disb.col.closed": "closed?",
      "disb.col.ledger_key": "ledger key",
      "disb.col.payee": "payee",
      "disb.col.amount_fen": "amount",
      "disb.col.attempts": "attempts",
      "disb.col.reason": "reason",
      "disb.col.since": "since",
      "disb.col.last_instruction": "last instruction",
      "disb.col.account": "account",
      "disb.col.next": "next step",
      "disb.next.decision": "supervisor decision (task {task})",
      "disb.next.retry": "instructed again on {on}",
      "disb.next.account": "instructed again when the payee's account changes (payee.account_updated)",
      "disb.col.days_waiting": "days waiting",
      "disb.col.task": "task",
      "disb.col.instructed_fen": "instructed amount",
      "disb.col.settled_fen": "settled amount",
      "disb.col.returned_fen": "returned amount",
      "disb.col.in_flight_fen": "amount in flight",
      "disb.col.instructed": "instructed",
      "disb.col.settled": "settled",
      "disb.col.returned": "returned",
      "disb.col.in_flight": "in flight",
      "disb.col.resent": "re-sent",
      "disb.yes": "closed",
      "disb.no": "open",
      "disb.reason.account_closed": "account closed",
      "disb.reason.account_frozen": "account frozen",
      "disb.reason.name_mismatch": "name mismatch",
      "disb.reason.other": "other",
      "disb.dashboard": "Paid and settled by month and fund",
      "disb.paid": "paid",
    },
    "zh-CN": {
      "disb.nav": "资金发放",
      "disb.batches": "支付批次",
      "disb.returned": "退回支付",
      "disb.awaiting": "待登记账户",
      "disb.reconciliation": "对账",
      "disb.city": "城市",
      "disb.from": "自",
      "disb.to": "至",
      "disb.show": "查询",
      "disb.csv": "导出 CSV",
      "disb.none": "无",
      "disb.rows": "行",
      "disb.total": "合计",
      "disb.col.batch_id": "批次",
      "disb.col.city": "城市",
      "disb.col.fund": "资金",
      "disb.col.on_date": "日期",
      "disb.col.day": "日期",
      "disb.col.count": "笔数",
      "disb.col.total_fen": "金额",
      "disb.col.closed": "是否关闭",
      "disb.col.ledger_key": "台账键",
      "disb.col.payee": "收款人",
      "disb.col.amount_fen": "金额",
      "disb.col.attempts": "尝试次数",
      "disb.col.reason": "退回原因",
      "disb.col.since": "起始日期",
      "disb.col.last_instruction": "最近一笔指令",
      "disb.col.account": "账户",
      "disb.col.next": "下一步",
      "disb.next.decision": "待监管人员决定（任务 {task}）",
      "disb.next.retry": "将于 {on} 重新发送",
      "disb.next.account": "收款人变更账户后重新发送（payee.account_updated）",
      "disb.col.days_waiting": "等待天数",
      "disb.col.task": "任务",
      "disb.col.instructed_fen": "已指令金额",
      "disb.col.settled_fen": "已结算金额",
      "disb.col.returned_fen": "已退回金额",
      "disb.col.in_flight_fen": "在途金额",
      "disb.col.instructed": "已指令",
      "disb.col.settled": "已结算",
      "disb.col.returned": "已退回",
      "disb.col.in_flight": "在途",
      "disb.col.resent": "重新发送",
      "disb.yes": "已关闭",
      "disb.no": "未关闭",
      "disb.reason.account_closed": "账户已销户",
      "disb.reason.account_frozen": "账户已冻结",
      "disb.reason.name_mismatch": "户名不符",
      "disb.reason.other": "其他",
      "disb.dashboard": "按月份和资金的已发放与已结算",
      "disb.paid": "已发放",
    },
  };
  const i18n = typeof I18N === "undefined" ? null : I18N;
  if (i18n) i18n.register(CATALOG);
  const tr = (key, params) => (i18n ? i18n.t(key, params) : CATALOG.en[key] ?? key);

  const VIEWS = {
    batches: ["batch_id", "city", "fund", "on_date", "count", "total_fen", "closed"],
    returned: ["ledger_key", "payee", "city", "fund", "amount_fen", "attempts", "reason", "since", "last_instruction", "account", "next"],
    awaiting: ["ledger_key", "payee", "city", "fund", "amount_fen", "since", "days_waiting", "task"],
    reconciliation: ["day", "city", "fund", "instructed", "instructed_fen", "settled", "settled_fen", "returned", "returned_fen",
      "in_flight", "in_flight_fen", "resent"],
  };
  const RANGED = new Set(["batches", "reconciliation"]);
  let current = "returned";

  const node = el;  // console.js's builder: one way to make an element on the page
  // An amount with its unit (I18N.yuan: string arithmetic on the fen, never a float); codes by
  // their names and dates as people write them, as on the rest of the page.
  const yuan = (fen) => (i18n ? i18n.yuan(fen) : `${fen} fen`);
  const DATES = new Set(["on_date", "since", "day"]);
  const cell = (column, value) => {
    if (value === null || value === undefined) return "";
    if (column.endsWith("_fen")) return yuan(value);
    if (i18n && (column === "city" || column === "fund")) return i18n.label(column, value);
    if (i18n && DATES.has(column)) return i18n.date(value);
    if (column === "closed") return tr(value ? "disb.yes" : "disb.no");
    if (column === "reason") return tr(`disb.reason.${value}`);
    if (column === "next") return tr(`disb.next.${value.step}`, { ...value, on: i18n && value.on ? i18n.date(value.on) : value.on });
    return String(value);
  };

  async function get(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${sessionStorage.getItem("jiuye-token")}` } });
    if (!response.ok) {
      let reason = response.statusText;
      try { reason = (await response.json()).error || reason; } catch (_) { /* not JSON */ }
      throw new Error(`${response.status}: ${reason}`);
    }
    return response;
  }
  const fail = (e) => { const p = document.querySelector("#disbursement-error"); if (p) p.textContent = e ? e.message : ""; };

  function query(view, format) {
    const params = new URLSearchParams();
    const form = document.querySelector("#disbursement-filter");
    for (const [k, v] of new FormData(form)) if (v && (RANGED.has(view) || k === "city")) params.set(k, v);
    if (format) params.set("format", format);
    return `/api/disbursement/${view}?${params}`;
  }

  function build(section) {
    const tabs = Object.keys(VIEWS).map((v) => node("button", { type: "button", "data-disbursement": v, onclick: () => load(v) }, tr(`disb.${v}`)));
    const filter = node("form", { id: "disbursement-filter", class: "filters", onsubmit: (e) => { e.preventDefault(); load(current); } },
      node("select", { name: "city", "data-labels": "city", "data-any": "filter.any_city", "aria-label": tr("disb.city") }),
      node("label", {}, tr("disb.from") + " ", node("input", { name: "from", type: "date" })),
      node("label", {}, tr("disb.to") + " ", node("input", { name: "to", type: "date" })),
      node("button", { type: "submit" }, tr("disb.show")),
      node("button", { type: "button", id: "disbursement-csv", onclick: exportCsv }, tr("disb.csv")));
    fillChoices(filter);  // console.js: the 14 cities by their names, as the other views' filters
    section.replaceChildren(node("div", { class: "disbursement-tabs" }, ...tabs), filter,
      node("h2", { id: "disbursement-title" }), node("p", { id: "disbursement-error", class: "error", role: "alert" }),
      node("p", { id: "disbursement-count" }),
      node("table", { id: "disbursement-table" }, node("thead"), node("tbody")), node("p", { id: "disbursement-totals" }));
  }

  async function load(view) {
    current = view;
    const section = document.querySelector("#view-disbursement");
    if (!section.querySelector("#disbursement-table")) build(section);
    for (const b of section.querySelectorAll("[data-disbursement]")) b.classList.toggle("active", b.dataset.disbursement === view);
    section.querySelector("#disbursement-title").textContent = tr(`disb.${view}`);
    section.dataset.view = view;
    try {
      const result = await (await get(query(view))).json();
      const columns = VIEWS[view];
      const table = section.querySelector("#disbursement-table");
      table.querySelector("thead").replaceChildren(node("tr", {}, ...columns.map((c) => node("th", {}, tr(`disb.col.${c}`)))));
      table.querySelector("tbody").replaceChildren(...(result.items.length
        ? result.items.map((item) => node("tr", {}, ...columns.map((c) => node("td", { class: `col-${c}` }, cell(c, item[c])))))
        : [node("tr", {}, node("td", { colspan: String(columns.length) }, tr("disb.none")))]));
      section.querySelector("#disbursement-count").textContent = `${result.items.length} ${tr("disb.rows")}`;
      section.querySelector("#disbursement-totals").textContent = result.totals
        ? `${tr("disb.total")}: ` + Object.entries(result.totals).map(([k, v]) => `${tr(`disb.col.${k}`)} ${cell(k, v)}`).join(" · ")
        : "";
      fail(null);
    } catch (e) { fail(e); }
  }

  async function exportCsv() {
    try {
      const blob = await (await get(query(current, "csv"))).blob();
      const link = node("a", { href: URL.createObjectURL(blob), download: `disbursement-${current}.csv` });
      document.body.append(link); link.click(); link.remove();
    } catch (e) { fail(e); }
  }

  // The dashboard's paid-against-settled chart: one pair of bars per month and fund.
  async function dashboard() {
    const box = document.querySelector("#disbursement-dashboard");
    if (!box) return;
    try {
      const { items } = await (await get("/api/disbursement/funds")).json();
      const max = Math.max(1, ...items.map((i) => Math.max(i.paid_fen, i.settled_fen)));
      const rows = items.map((i) => node("div", { class: "disb-bar" },
        node("span", { class: "disb-label" }, i18n ? `${i18n.month(i.month)} · ${i18n.label("fund", i.fund)}` : `${i.month} · ${i.fund}`),
        node("span", { class: "disb-paid", style: `width:${(i.paid_fen / max) * 40}rem`, title: `${tr("disb.paid")} ${yuan(i.paid_fen)}` }),
        node("span", { class: "disb-settled", style: `width:${(i.settled_fen / max) * 40}rem`, title: `${tr("disb.col.settled")} ${yuan(i.settled_fen)}` }),
        node("small", {}, `${tr("disb.paid")} ${yuan(i.paid_fen)} / ${tr("disb.col.settled")} ${yuan(i.settled_fen)}`)));
      box.replaceChildren(node("h2", {}, tr("disb.dashboard")), ...(rows.length ? rows : [node("p", {}, tr("disb.none"))]));
    } catch (e) { box.replaceChildren(node("p", { class: "error" }, e.message)); }
  }

  // A first decision for each desk task's card, where console.js prefills one (JSON, not text:
  // a refusal names every action the task takes; policy/disbursement_decisions.py).
  if (typeof DECISION_HINTS !== "undefined") {
    Object.assign(DECISION_HINTS, {
      payment_returned: '{"action": "reinstruct"}',
      payment_unconfirmed: '{"action": "settled", "reference": ""}',
      awaiting_account: '{"action": "wait"}',
    });
  }

  const style = document.createElement("style");
  style.textContent = `.disbursement-tabs button.active { background: #16324f; color: #fff; }
    .disb-bar { display: flex; align-items: center; gap: .3rem; margin: .15rem 0; }
    .disb-label { width: 16rem; } .disb-paid, .disb-settled { display: inline-block; height: .8rem; min-width: 1px; }
    .disb-paid { background: #4c6ef5; } .disb-settled { background: #2b8a3e; }`;
  document.head.append(style);
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("nav button[data-view]");
    if (!button) return;
    if (button.dataset.view === "disbursement") load(current);
    if (button.dataset.view === "dashboard") dashboard();
  });
  const nav = document.querySelector('nav button[data-view="disbursement"]');
  if (nav) nav.textContent = tr("disb.nav");
  window.Disbursement = { load, dashboard };
})();
