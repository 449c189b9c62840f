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

  return { bars };
})();
