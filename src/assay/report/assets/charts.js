// assay report, charts: SVG drawn here from the numbers the tables show (no library, no network).
// Every mark carries its number in data-value, so a test (or a reader) can check chart against table.
(function () {
  "use strict";
  var A = window.assay;
  var LABEL_W = 280, PLOT_W = 440, VALUE_W = 90, BAR_H = 14, GAP = 10;

  function color(run) { return A.PALETTE[run % A.PALETTE.length]; }
  function label(svg, x, y, text, anchor, cls) {
    svg.appendChild(A.svg("text", { x: x, y: y, "text-anchor": anchor || "start", cls: cls || "chart-label", text: text }));
  }
  function shorten(text, n) { text = String(text); return text.length > n ? text.slice(0, n - 1) + "…" : text; }
  function scale(values, lo, hi) {
    values.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (hi === lo) hi = lo + 1;
    return function (v) { return LABEL_W + (Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo) * PLOT_W; };
  }

  // Horizontal bars, one group per row label, one bar per run, with an interval whisker where known.
  // groups: [{label, bars: [{run, value, low, high, tip}]}]
  A.barChart = function (id, groups) {
    var all = [];
    groups.forEach(function (g) { g.bars.forEach(function (b) { all.push(b.value, b.low, b.high); }); });
    var numbers = all.map(A.num);
    var unitRange = numbers.every(function (v) { return v === null || (v >= 0 && v <= 1); });
    var x = scale(numbers, 0, unitRange ? 1 : 0);
    var height = 0;
    groups.forEach(function (g) { height += g.bars.length * BAR_H + GAP; });
    var svg = A.svg("svg", { id: id, cls: "chart", width: LABEL_W + PLOT_W + VALUE_W, height: height + 20,
                             viewBox: "0 0 " + (LABEL_W + PLOT_W + VALUE_W) + " " + (height + 20), role: "img" });
    var y = 4;
    svg.appendChild(A.svg("line", { x1: x(0), x2: x(0), y1: 0, y2: height, cls: "axis" }));
    groups.forEach(function (g) {
      label(svg, LABEL_W - 8, y + g.bars.length * BAR_H / 2 + 4, shorten(g.label, 44), "end");
      g.bars.forEach(function (b) {
        var v = A.num(b.value);
        if (v !== null) {
          var x0 = Math.min(x(0), x(v)), w = Math.max(1, Math.abs(x(v) - x(0)));
          var bar = A.svg("rect", { x: x0, y: y + 1, width: w, height: BAR_H - 2, fill: color(b.run), cls: "bar",
                                    "data-group": g.label, "data-run": b.run, "data-value": A.fmt(v) },
                          [A.svg("title", { text: b.tip || A.fmt(v) })]);
          svg.appendChild(bar);
          var lo = A.num(b.low), hi = A.num(b.high), mid = y + BAR_H / 2;
          if (lo !== null && hi !== null) {
            svg.appendChild(A.svg("line", { x1: x(lo), x2: x(hi), y1: mid, y2: mid, cls: "whisker", "data-low": A.fmt(lo), "data-high": A.fmt(hi) }));
            svg.appendChild(A.svg("line", { x1: x(lo), x2: x(lo), y1: mid - 4, y2: mid + 4, cls: "whisker" }));
            svg.appendChild(A.svg("line", { x1: x(hi), x2: x(hi), y1: mid - 4, y2: mid + 4, cls: "whisker" }));
          }
        }
        label(svg, LABEL_W + PLOT_W + 6, y + BAR_H - 3, v === null ? A.fmt(b.value) : A.fmt(v), "start", "chart-value");
        y += BAR_H;
      });
      y += GAP;
    });
    label(svg, x(0), height + 16, "0", "middle", "chart-tick");
    return svg;
  };

  // Horizontal stacked bars: one row per label, parts drawn end to end (paid, then cached…).
  // rows: [{label, run, parts: [{name, value}]}]; the part's index picks its shade.
  A.stackedChart = function (id, rows, unit) {
    var totals = rows.map(function (r) { return r.parts.reduce(function (s, p) { return s + (A.num(p.value) || 0); }, 0); });
    var x = scale(totals, 0, 0);
    var height = rows.length * (BAR_H + 4);
    var svg = A.svg("svg", { id: id, cls: "chart", width: LABEL_W + PLOT_W + VALUE_W + 40, height: height + 8,
                             viewBox: "0 0 " + (LABEL_W + PLOT_W + VALUE_W + 40) + " " + (height + 8), role: "img" });
    rows.forEach(function (r, k) {
      var y = 4 + k * (BAR_H + 4), at = 0;
      label(svg, LABEL_W - 8, y + BAR_H - 3, shorten(r.label, 44), "end");
      r.parts.forEach(function (p, i) {
        var v = A.num(p.value) || 0;
        if (v > 0) {
          svg.appendChild(A.svg("rect", { x: x(at), y: y, width: Math.max(1, x(at + v) - x(at)), height: BAR_H,
                                          fill: color(r.run), "fill-opacity": i === 0 ? 1 : 0.35, cls: "part part-" + p.name,
                                          "data-row": r.label, "data-part": p.name, "data-value": String(v) },
                                  [A.svg("title", { text: p.name + ": " + unit(v) })]));
        }
        at += v;
      });
      label(svg, LABEL_W + PLOT_W + 6, y + BAR_H - 3, unit(totals[k]), "start", "chart-value");
    });
    return svg;
  };

  // Vertical grouped bars: how often each value came out, per run. series: [{run, counts: [..per bin..]}]
  A.histogram = function (id, bins, series) {
    var max = 1;
    series.forEach(function (s) { s.counts.forEach(function (c) { max = Math.max(max, c); }); });
    var groupW = Math.max(24, Math.min(70, Math.floor(PLOT_W * 1.4 / Math.max(1, bins.length))));
    var barW = Math.max(4, Math.floor((groupW - 6) / Math.max(1, series.length)));
    var plotH = 120, width = 40 + bins.length * groupW + 10;
    var svg = A.svg("svg", { id: id, cls: "chart", width: width, height: plotH + 40,
                             viewBox: "0 0 " + width + " " + (plotH + 40), role: "img" });
    svg.appendChild(A.svg("line", { x1: 36, x2: width, y1: plotH + 4, y2: plotH + 4, cls: "axis" }));
    label(svg, 32, 12, String(max), "end", "chart-tick");
    bins.forEach(function (bin, b) {
      var gx = 40 + b * groupW;
      series.forEach(function (s, k) {
        var c = s.counts[b] || 0, h = c / max * plotH;
        svg.appendChild(A.svg("rect", { x: gx + k * barW, y: plotH + 4 - h, width: barW - 1, height: Math.max(h, 0.5),
                                        fill: color(s.run), cls: "bin", "data-bin": bin, "data-run": s.run, "data-value": String(c) },
                                [A.svg("title", { text: bin + ": " + c })]));
      });
      label(svg, gx + groupW / 2 - 3, plotH + 20, shorten(bin, 9), "middle", "chart-tick");
    });
    return svg;
  };

  A.legend = function (runs) {
    var box = A.el("div", { cls: "legend" });
    runs.forEach(function (r, i) {
      box.appendChild(A.el("span", { cls: "key" }, [A.el("i", { style: "background:" + color(i) }), (runs.length > 1 ? "run " + (i + 1) + ": " : "") + r.label]));
    });
    return box;
  };
})();
