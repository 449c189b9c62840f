// The dashboard's charts: inline SVG bars, nothing fetched from anywhere.
"use strict";
const Charts = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#1c7ed6", "#37b24d", "#f59f00", "#e03131", "#7048e8", "#0ca678", "#868e96"];
  const svgEl = (tag, attrs, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text != null) node.textContent = text;
    return node;
  };
  const legendOf = (names, nameOf) => {
    const legend = document.createElement("div");
    legend.className = "legend";
    names.forEach((n, j) => {
      const item = document.createElement("span"), swatch = document.createElement("i");
      swatch.style.background = PALETTE[j % PALETTE.length];
      item.append(swatch, nameOf(n));
      legend.append(item);
    });
    return legend;
  };

  // Horizontal stacked bars: one bar per group, one colour per series; a group with nothing
  // still gets its row (the 14 cities are always all there). `nameOf` gives a code its words.
  function bars(groups, series, valueOf, { format = String, nameOf = String, seriesName = String, left = 260 } = {}) {
    const width = 820, barH = 18, gap = 6;
    const totals = groups.map((g) => series.reduce((s, n) => s + (valueOf(g, n) || 0), 0));
    const max = Math.max(1, ...totals);
    const svg = svgEl("svg", { width, height: groups.length * (barH + gap) + 10 });
    groups.forEach((g, i) => {
      const y = 5 + i * (barH + gap);
      svg.append(svgEl("text", { x: 4, y: y + 13 }, nameOf(g)));
      let x = left;
      series.forEach((n, j) => {
        const v = valueOf(g, n) || 0;
        if (!v) return;
        const w = (v / max) * (width - left - 130);
        const rect = svgEl("rect", { x, y, width: Math.max(w, 1), height: barH, fill: PALETTE[j % PALETTE.length] });
        rect.append(svgEl("title", {}, `${nameOf(g)} · ${seriesName(n)}: ${format(v)}`));
        svg.append(rect);
        x += w;
      });
      svg.append(svgEl("text", { x: x + 4, y: y + 13, class: "total" }, format(totals[i])));
    });
    return [svg, legendOf(series, seriesName)];
  }

  // A year against its budget (POLICY.md part 2 §22): one column per month, its height the running
  // total so far, spend below and forecast above, and the budget as a line across; `budget` null
  // draws no line. Amounts are integers (fen); `format` gives them their words.
  function budgetColumns(months, spendOf, forecastOf, budget, { format = String, monthName = String, names = {} } = {}) {
    const width = 820, height = 220, left = 10, top = 18, bottom = 26, colW = (width - left - 20) / months.length;
    let running = 0;
    const stacks = months.map((m) => {
      const base = running, spend = spendOf(m) || 0, forecast = forecastOf(m) || 0;
      running += spend + forecast;
      return { m, base, spend, forecast };
    });
    const max = Math.max(1, running, budget || 0);
    const y = (v) => top + (height - top - bottom) * (1 - v / max);
    const svg = svgEl("svg", { width, height, class: "budget-columns" });
    stacks.forEach(({ m, base, spend, forecast }, i) => {
      const x = left + i * colW + 3, w = colW - 6;
      [[base, spend, 0, "spend"], [base + spend, forecast, 2, "forecast"]].forEach(([from, v, colour, what]) => {
        if (!v) return;
        const rect = svgEl("rect", { x, y: y(from + v), width: w, height: Math.max(y(from) - y(from + v), 1), fill: PALETTE[colour],
          class: `column-${what}` });
        rect.append(svgEl("title", {}, `${monthName(m)} · ${names[what] || what}: ${format(v)}`));
        svg.append(rect);
      });
      svg.append(svgEl("text", { x: x + w / 2, y: height - 8, "text-anchor": "middle", class: "month" }, m.slice(5)));
    });
    if (budget != null) {
      svg.append(svgEl("line", { x1: left, x2: width - 10, y1: y(budget), y2: y(budget), stroke: PALETTE[3], "stroke-width": 2,
        "stroke-dasharray": "6 3", class: "budget-line" }));
      svg.append(svgEl("text", { x: width - 12, y: y(budget) - 4, "text-anchor": "end", class: "total" },
        `${names.budget || "budget"} ${format(budget)}`));
    }
    const legend = legendOf(["spend", "forecast"], (n) => names[n] || n);
    [...legend.querySelectorAll("i")][1].style.background = PALETTE[2];
    return [svg, legend];
  }

  return { bars, budgetColumns };
})();
