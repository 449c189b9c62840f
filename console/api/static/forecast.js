// The dashboard's forecast section (POLICY.md part 2 §22) over /api/forecast: per city and fund of
// the year, spend so far, the open cases' forecast and the budget line (charts.js budgetColumns),
// and the month the budget runs out. Loaded after console.js (its `el`); its own catalog goes to
// I18N. It needs one hook of index.html: `#forecast-dashboard` in the dashboard's section.
(() => {
  "use strict";
  const CATALOG = {
    "zh-CN": {
      "fc.title": "资金预测（{year} 年）",
      "fc.spend": "已支出", "fc.forecast": "预测支出", "fc.budget": "预算",
      "fc.runs_out": "预算预计 {month} 用尽", "fc.lasts": "预算可支撑全年", "fc.no_budget": "未设预算",
      "fc.totals": "已支出 {spend} · 预测 {forecast} · 合计 {total}",
      "fc.none": "本年尚无支出、预测或预算",
    },
    en: {
      "fc.title": "Fund forecast ({year})",
      "fc.spend": "spend so far", "fc.forecast": "forecast", "fc.budget": "budget",
      "fc.runs_out": "budget runs out in {month}", "fc.lasts": "budget lasts the year", "fc.no_budget": "no budget set",
      "fc.totals": "spend {spend} · forecast {forecast} · together {total}",
      "fc.none": "no spend, forecast or budget this year",
    },
  };
  I18N.register(CATALOG);
  const t = I18N.t, label = I18N.label, yuan = I18N.yuan;

  async function dashboard() {
    const box = document.querySelector("#forecast-dashboard");
    if (!box) return;
    try {
      const response = await fetch("/api/forecast", { headers: { Authorization: `Bearer ${sessionStorage.getItem("jiuye-token")}` } });
      if (!response.ok) throw new Error(`${response.status}: ${response.statusText}`);
      const result = await response.json();
      const names = { spend: t("fc.spend"), forecast: t("fc.forecast"), budget: t("fc.budget") };
      const blocks = result.funds.map((f) => {
        const by = Object.fromEntries(f.months.map((m) => [m.month, m]));
        const months = f.months.map((m) => m.month);
        const outcome = f.budget == null ? t("fc.no_budget")
          : (f.runs_out ? t("fc.runs_out", { month: I18N.month(f.runs_out) }) : t("fc.lasts"));
        return el("div", { class: `forecast-fund${f.runs_out ? " shortfall" : ""}` },
          el("h3", {}, `${label("city", f.city)} ${f.city} · ${label("fund", f.fund)}`),
          el("p", {}, `${f.budget == null ? "" : `${t("fc.budget")} ${yuan(f.budget)} · `}${t("fc.totals", {
            spend: yuan(f.spend), forecast: yuan(f.forecast), total: yuan(f.spend_and_forecast) })} · `, el("strong", {}, outcome)),
          ...Charts.budgetColumns(months, (m) => by[m].spend, (m) => by[m].forecast, f.budget,
            { format: yuan, monthName: I18N.month, names }));
      });
      box.replaceChildren(el("h2", {}, t("fc.title", { year: result.year })), ...(blocks.length ? blocks : [el("p", {}, t("fc.none"))]));
    } catch (e) { box.replaceChildren(el("p", { class: "error" }, e.message)); }
  }

  const style = document.createElement("style");
  style.textContent = `.forecast-fund { margin: .6rem 0 1.2rem; } .forecast-fund.shortfall strong { color: #e03131; }`;
  document.head.append(style);
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("nav button[data-view]");
    if (button && button.dataset.view === "dashboard") dashboard();
  });
  window.Forecast = { dashboard };
})();
