// assay report, the page: loads the runs (embedded, or picked in a report folder's index), joins their
// samples on (task, doc), and draws the header, charts, tables and samples. No network, no libraries.
(function () {
  "use strict";
  var A = window.assay, el = A.el, fmt = A.fmt, num = A.num;
  var started = performance.now();
  var D0 = A.data("assay-data");
  var D, nRuns;
  var loaded = {}, timings = {};  // ms per step, for bench/report.py

  // -- loading and joining runs ---------------------------------------------------------------------
  window.assayRunLoaded = function (data) { if (data && data.key) loaded[data.key] = data; };
  function loadSources() {
    var keys = decodeURIComponent(location.hash.slice(1)).split(",").filter(function (k) {
      return Object.prototype.hasOwnProperty.call(D0.sources, k);
    });
    window.addEventListener("hashchange", function () { location.reload(); });
    if (!keys.length) { fail("No run picked: open runs from the index.", true); return; }
    var pending = keys.length;
    keys.forEach(function (k) {
      var script = el("script", { src: D0.sources[k] });
      script.onload = script.onerror = function () { if (--pending === 0) sourcesLoaded(keys); };
      document.body.appendChild(script);
    });
  }
  function sourcesLoaded(keys) {
    var missing = keys.filter(function (k) { return !loaded[k]; });
    if (missing.length) { fail("Could not load " + missing.map(function (k) { return D0.sources[k]; }).join(", ") + " (is the report folder whole?)", true); return; }
    var data = keys.map(function (k) { return loaded[k]; });
    start(data.map(function (d) { return d.run; }), data.map(function (d) { return d.media; }),
          data.reduce(function (s, d) { return s + (d.left_out || 0); }, 0), null);
  }
  function fail(message, toIndex) {
    var box = document.getElementById("runs");
    box.appendChild(el("p", { cls: "empty", id: "load-message", text: message + " " }, [toIndex ? el("a", { href: "index.html", text: "index of runs" }) : null]));
    ready();
  }
  function titleOf(runs) {
    if (runs.length === 1) return runs[0].model + (runs[0].provider && runs[0].provider !== runs[0].model ? " (" + runs[0].provider + ")" : "");
    return "Comparison: " + runs.map(function (r) { return r.model; }).join(" vs ");
  }
  function docOrder(a, b) {
    var na = typeof a === "number", nb = typeof b === "number";
    if (na && nb) return a - b;
    if (na !== nb) return na ? -1 : 1;
    return String(a) < String(b) ? -1 : (String(a) > String(b) ? 1 : 0);
  }
  function join(payloads, medias) {
    var n = payloads.length, tasks = [], tIndex = {}, groups = [], gIndex = {}, map = {}, items = [];
    var runs = payloads.map(function (p) { var r = Object.assign({}, p.run); r.label = r.model + " · " + r.run_id; return r; });
    payloads.forEach(function (p, r) {
      p.tasks.forEach(function (t) {
        if (!Object.prototype.hasOwnProperty.call(tIndex, t.name)) {
          tIndex[t.name] = tasks.length;
          tasks.push({ name: t.name, alias: t.alias, primary: t.primary, higher: t.higher_is_better !== false, per_run: new Array(n).fill(null) });
        }
        var T = tasks[tIndex[t.name]];
        if (!T.primary && t.primary) { T.primary = t.primary; T.higher = t.higher_is_better !== false; }
        T.per_run[r] = t;
      });
      p.groups.forEach(function (g) {
        if (!Object.prototype.hasOwnProperty.call(gIndex, g.name)) { gIndex[g.name] = groups.length; groups.push({ name: g.name, per_run: new Array(n).fill(null) }); }
        groups[gIndex[g.name]].per_run[r] = g;
      });
      p.items.forEach(function (it) {
        var t = tIndex[p.tasks[it.t].name], key = t + "\u0001" + JSON.stringify(it.d), item = map[key];
        if (!item) { item = map[key] = { t: t, d: it.d, p: it.p, g: it.g, i: [], x: 0, r: new Array(n).fill(null) }; items.push(item); }
        if (!item.i.length && it.i && it.i.length) item.i = it.i.map(function (m) { return [medias[r][m[0]], m[1], m[2]]; });
        if (it.x) item.x = it.x;
        item.r[r] = it;
      });
    });
    items.sort(function (a, b) { return a.t - b.t || docOrder(a.d, b.d); });
    return { runs: runs, tasks: tasks, groups: groups, items: items };
  }

  // -- header ----------------------------------------------------------------------------------------
  function runName(i) { return nRuns > 1 ? "run " + (i + 1) : "value"; }
  function renderHeader() {
    var box = el("div", { cls: "runs" });
    D.runs.forEach(function (r, i) {
      var versions = Object.keys(r.task_versions || {}).map(function (t) {
        var v = r.task_versions[t]; return t + (v === null || v === undefined ? "" : (typeof v === "number" ? " v" + String(v) : " (" + String(v) + ")"));
      });
      var judges = (r.judges || []).map(function (j) {
        return (j.model || "?") + (j.provider ? " via " + j.provider : "") + (j.profile && j.profile !== "default" ? " (" + j.profile + ")" : "");
      });
      box.appendChild(el("div", { cls: "run", "data-run": i }, [
        el("div", null, [
          el("i", { cls: "swatch", style: "background:" + A.PALETTE[i % A.PALETTE.length] }),
          nRuns > 1 ? el("b", { text: "run " + (i + 1) + ": " }) : null,
          el("b", { cls: "h-model", text: r.model }), r.provider ? el("span", { cls: "h-provider", text: " via " + r.provider }) : null,
          el("span", { cls: "muted", text: "  run " + r.run_id })
        ]),
        el("div", { cls: "facts" }, [
          el("span", { cls: "h-status status-" + r.status, text: r.status + (r.status_reason ? ": " + r.status_reason : "") }),
          el("span", { cls: "h-started", text: "started " + A.when(r.started_at) }),
          el("span", { cls: "h-duration", text: "took " + A.seconds(r.wall_s) }),
          el("span", { cls: "h-judge", text: "judge: " + (judges.length ? judges.join(", ") : "none") }),
          el("span", { cls: "h-assay", text: "assay " + (r.assay_version || "?") }),
          el("span", { cls: "h-tasks", text: "tasks: " + (versions.join(", ") || "—") }),
          r.has_samples ? null : el("span", { cls: "h-nosamples", text: "no samples logged (run with --log_samples)" })
        ])
      ]));
    });
    document.getElementById("runs").appendChild(box);
  }

  // -- metrics: chart, table, paired deltas -----------------------------------------------------------
  function resultOf(t, r) { var pr = t.per_run[r]; return pr && pr.result ? pr.result : null; }
  function interval(m) {
    if (!m) return [null, null];
    if (m.ci95 && m.ci95.length === 2 && num(m.ci95[0]) !== null && num(m.ci95[1]) !== null) return [m.ci95[0], m.ci95[1]];
    if (num(m.value) !== null && num(m.stderr) !== null) return [m.value - 1.96 * m.stderr, m.value + 1.96 * m.stderr];
    return [null, null];
  }
  function renderMetricChart() {
    var groups = [];
    D.tasks.forEach(function (t) {
      if (!t.primary) return;
      var bars = [];
      for (var r = 0; r < nRuns; r++) {
        var res = resultOf(t, r), m = res ? res.metrics[t.primary] : null;
        if (!m) continue;
        var ci = interval(m);
        bars.push({ run: r, value: m.value, low: ci[0], high: ci[1], tip: D.runs[r].label + ": " + fmt(m.value) });
      }
      if (bars.length) groups.push({ label: t.alias + " · " + t.primary, bars: bars });
    });
    var box = document.getElementById("charts");
    if (!groups.length) { document.getElementById("charts-section").hidden = true; return; }
    box.appendChild(A.legend(D.runs));
    box.appendChild(A.barChart("metric-chart", groups));
    box.appendChild(el("p", { cls: "muted", text: "Each task's first metric; whiskers: the 95% bootstrap interval, or ±1.96 standard errors where no bootstrap ran." }));
  }
  function metricCell(m) {
    if (!m) return el("td", { text: "—" });
    var cell = el("td", null, [fmt(m.value) + (num(m.stderr) !== null ? " ± " + m.stderr.toFixed(4) : "")]);
    var extra = [];
    if (m.ci95 && m.ci95.length === 2) extra.push("95% CI [" + fmt(m.ci95[0]) + ", " + fmt(m.ci95[1]) + "]");
    if (m.n !== undefined && m.n !== null) extra.push("n=" + m.n);
    if (m.error) extra.push("error: " + m.error);
    if (extra.length) cell.appendChild(el("div", { cls: "muted", text: extra.join(" · ") }));
    return cell;
  }
  function deltaCell(base, m, higher) {
    if (!base || !m || num(base.value) === null || num(m.value) === null) return el("td", { text: "—" });
    var d = m.value - base.value, better = higher ? d > 0 : d < 0;
    return el("td", { cls: d === 0 ? "" : (better ? "delta-up" : "delta-down"), text: (d > 0 ? "+" : "") + d.toFixed(4) });
  }
  function metricsTable(rows, label) {
    var head = [el("th", { cls: "l", text: label }), el("th", { cls: "l", text: "metric" })];
    for (var i = 0; i < nRuns; i++) head.push(el("th", { text: runName(i) }));
    for (var j = 1; j < nRuns; j++) head.push(el("th", { text: "Δ run " + (j + 1) + " − run 1" }));
    var body = rows.map(function (row) {
      var tr = el("tr", { cls: row.primary ? "primary" : "" }, [el("td", { cls: "l", text: row.name }), el("td", { cls: "l", text: row.metric })]);
      row.cells.forEach(function (m) { tr.appendChild(metricCell(m)); });
      for (var k = 1; k < nRuns; k++) tr.appendChild(deltaCell(row.cells[0], row.cells[k], row.higher));
      return tr;
    });
    return el("table", { id: label + "-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]);
  }
  function metricNames(perRun) {
    var names = [];
    perRun.forEach(function (metrics) { if (metrics) Object.keys(metrics).forEach(function (m) { if (names.indexOf(m) < 0) names.push(m); }); });
    return names;
  }
  function renderMetrics() {
    var rows = [];
    D.tasks.forEach(function (t) {
      var per = t.per_run.map(function (pr) { return pr && pr.result ? pr.result.metrics : null; });
      metricNames(per).forEach(function (m) {
        var cells = per.map(function (ms) { return ms ? ms[m] : null; });
        var higher = !cells.some(function (c) { return c && c.higher_is_better === false; });
        rows.push({ name: t.alias, metric: m, cells: cells, primary: m === t.primary, higher: higher });
      });
    });
    var box = document.getElementById("metrics");
    if (!rows.length) box.appendChild(el("p", { cls: "empty", text: "No metrics (a --predict_only run, or no task finished)." }));
    else box.appendChild(metricsTable(rows, "task"));
    var grows = [];
    D.groups.forEach(function (g) {
      var per = g.per_run.map(function (pr) { return pr ? pr.metrics : null; });
      metricNames(per).forEach(function (m) { grows.push({ name: g.name, metric: m, cells: per.map(function (ms) { return ms ? ms[m] : null; }), higher: true }); });
    });
    if (grows.length) box.appendChild(metricsTable(grows, "group"));
  }
  A.signTest = function (wins, losses) {
    var n = wins + losses;
    if (!n) return null;
    var lf = [0];
    for (var i = 1; i <= n; i++) lf[i] = lf[i - 1] + Math.log(i);
    var tail = 0;
    for (var k = 0; k <= Math.min(wins, losses); k++) tail += Math.exp(lf[n] - lf[k] - lf[n - k] - n * Math.LN2);
    return Math.min(1, 2 * tail);
  };
  function scoreOf(answer, metric) { return answer && answer.m ? num(answer.m[metric]) : null; }
  function renderDeltas() {
    var section = document.getElementById("deltas-section");
    if (nRuns < 2) { section.hidden = true; return; }
    var head = ["task · metric", "run", "Δ mean (paired)", "paired docs", "higher", "lower", "tied", "p (sign test)"].map(function (h, i) { return el("th", { cls: i < 2 ? "l" : "", text: h }); });
    var body = [];
    D.tasks.forEach(function (t, ti) {
      if (!t.primary) return;
      for (var r = 1; r < nRuns; r++) {
        var up = 0, down = 0, tied = 0, sum = 0;
        D.items.forEach(function (item) {
          if (item.t !== ti) return;
          var a = scoreOf(item.r[0], t.primary), b = scoreOf(item.r[r], t.primary);
          if (a === null || b === null) return;
          sum += b - a;
          if (b > a) up++; else if (b < a) down++; else tied++;
        });
        var n = up + down + tied, p = A.signTest(up, down);
        var better = t.higher ? up > down : down > up;
        var cls = p !== null && p < 0.05 ? (better ? "delta-up sig" : "delta-down sig") : "";
        body.push(el("tr", { "data-task": t.name, "data-run": r }, [
          el("td", { cls: "l", text: t.alias + " · " + t.primary }), el("td", { cls: "l", text: "run " + (r + 1) + " vs run 1" }),
          el("td", { cls: cls, text: n ? ((sum >= 0 ? "+" : "") + (sum / n).toFixed(4)) : "—" }), el("td", { text: String(n) }),
          el("td", { text: String(up) }), el("td", { text: String(down) }), el("td", { text: String(tied) }),
          el("td", { cls: "p " + cls, text: p === null ? "—" : (p < 0.001 ? p.toExponential(1) : p.toFixed(4)) + (p !== null && p < 0.05 ? " *" : "") })
        ]));
      }
    });
    var box = document.getElementById("deltas");
    if (!body.length) { box.appendChild(el("p", { cls: "empty", text: "No task has per-sample scores in both runs." })); return; }
    box.appendChild(el("table", { id: "deltas-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]));
    box.appendChild(el("p", { cls: "muted", text: "Paired on the docs both runs scored (same task, same doc id). p: exact two-sided sign test on the per-doc differences (for 0/1 scores, McNemar's exact test); * p < 0.05." }));
  }
  A.report = { join: join };

  // -- judge verdicts ---------------------------------------------------------------------------------
  function bins(values) {
    var numeric = values.every(function (v) { return typeof v === "number"; });
    var distinct = values.filter(function (v, i, a) { return a.indexOf(v) === i; });
    if (!numeric || (distinct.every(Number.isInteger) && distinct.length <= 21)) {
      distinct.sort(function (a, b) { return numeric ? a - b : String(a).localeCompare(String(b)); });
      return { labels: distinct.map(String), of: function (v) { return distinct.indexOf(v); } };
    }
    var lo = Math.min.apply(null, distinct), hi = Math.max.apply(null, distinct), w = (hi - lo) / 10 || 1, labels = [];
    for (var b = 0; b < 10; b++) labels.push((lo + b * w).toFixed(2) + "–" + (lo + (b + 1) * w).toFixed(2));
    return { labels: labels, of: function (v) { return Math.min(9, Math.floor((v - lo) / w)); } };
  }
  function renderJudge() {
    var box = document.getElementById("judge");
    var any = false;
    D.tasks.forEach(function (t, ti) {
      var perRun = [], all = [];
      for (var r = 0; r < nRuns; r++) perRun.push([]);
      D.items.forEach(function (item) {
        if (item.t !== ti) return;
        item.r.forEach(function (a, r) { if (a && a.v) a.v.forEach(function (v) { perRun[r].push(v); all.push(v); }); });
      });
      if (!all.length) return;
      any = true;
      var b = bins(all);
      var series = perRun.map(function (vals, r) {
        var counts = b.labels.map(function () { return 0; });
        vals.forEach(function (v) { counts[b.of(v)] += 1; });
        return { run: r, counts: counts };
      });
      box.appendChild(el("h3", { text: t.alias }));
      box.appendChild(A.histogram("judge-chart-" + ti, b.labels, series));
      var head = [el("th", { cls: "l", text: "verdict" })].concat(series.map(function (s) { return el("th", { text: runName(s.run) }); }));
      var rows = b.labels.map(function (label, k) {
        return el("tr", null, [el("td", { cls: "l", text: label })].concat(series.map(function (s) { return el("td", { text: String(s.counts[k]) }); })));
      });
      box.appendChild(el("table", { cls: "judge-table", "data-task": t.name }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, rows)]));
    });
    if (!any) document.getElementById("judge-section").hidden = true;
  }

  // -- errors, cost, time -----------------------------------------------------------------------------
  function kinds(obj) {
    return Object.keys(obj || {}).map(function (k) { return k + ": " + fmt(obj[k]); }).join(", ");
  }
  function renderErrors() {
    var head = [el("th", { cls: "l", text: "task" })];
    for (var i = 0; i < nRuns; i++) head.push(el("th", { cls: "l", text: nRuns > 1 ? "run " + (i + 1) : "errors" }));
    var body = D.tasks.map(function (t, ti) {
      var tr = el("tr", null, [el("td", { cls: "l", text: t.alias })]);
      for (var r = 0; r < nRuns; r++) {
        var res = resultOf(t, r);
        if (!res) { tr.appendChild(el("td", { cls: "l", text: "—" })); continue; }
        var cell = el("td", { cls: "l" }, [A.int(res.n_errors) + " of " + A.int(res.n_samples) + " failed"]);
        var k = kinds(res.errors); if (k) cell.appendChild(el("div", { cls: "muted", text: k }));
        var j = kinds(res.judge); if (j) cell.appendChild(el("div", { cls: "muted", text: "judge: " + j }));
        tr.appendChild(cell);
      }
      return tr;
    });
    document.getElementById("errors").appendChild(el("table", { id: "errors-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]));
  }
  function costText(cost) {
    if (cost === null || cost === undefined) return "—";
    if (typeof cost !== "object") return num(cost) !== null ? A.usd(cost) : String(cost);
    var total = cost.total_usd !== undefined ? cost.total_usd : cost.usd;
    var text = num(total) !== null ? A.usd(total) : (total === null || total === undefined ? "— (no price known)" : String(total));
    if (num(cost.max_cost) !== null) text += " of $" + cost.max_cost.toFixed(2) + " cap" + (cost.cap_reached ? " (reached)" : "");
    return text;
  }
  function renderUsage() {
    var get = function (o, k) { return o && typeof o === "object" ? o[k] : undefined; };
    var rows = [
      ["input tokens (paid)", function (r) { return A.int(get(r.usage, "input_tokens")); }],
      ["output tokens (paid)", function (r) { return A.int(get(r.usage, "output_tokens")); }],
      ["input tokens (from cache)", function (r) { return A.int(get(get(r.usage, "from_cache"), "input_tokens")); }],
      ["output tokens (from cache)", function (r) { return A.int(get(get(r.usage, "from_cache"), "output_tokens")); }],
      ["cost", function (r) { return costText(r.cost); }],
      ["requests", function (r) { return A.int(get(r.model_stats, "requests")); }],
      ["retries", function (r) { return A.int(get(r.model_stats, "retries")); }],
      ["cache hits", function (r) { return A.int(get(r.model_stats, "cache_hits")); }],
      ["wall time", function (r) { return A.seconds(r.wall_s); }]
    ];
    var head = [el("th", { cls: "l", text: "" })];
    for (var i = 0; i < nRuns; i++) head.push(el("th", { text: nRuns > 1 ? "run " + (i + 1) : "this run" }));
    var body = rows.map(function (row) {
      var tr = el("tr", null, [el("td", { cls: "l", text: row[0] })]);
      D.runs.forEach(function (r) { tr.appendChild(el("td", { text: row[1](r) })); });
      return tr;
    });
    var box = document.getElementById("usage");
    box.appendChild(el("table", { id: "usage-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]));
    renderBreakdown(box);
  }
  function renderBreakdown(box) {
    var head = ["task", "run", "tokens paid (in / out)", "tokens from cache (in / out)", "cost paid", "cost of cached answers", "time paid", "time cached", "samples logged"]
      .map(function (h, i) { return el("th", { cls: i < 2 ? "l" : "", text: h }); });
    var body = [], time = [], cost = [];
    D.tasks.forEach(function (t) {
      for (var r = 0; r < nRuns; r++) {
        var pr = t.per_run[r];
        if (!pr) continue;
        var res = pr.result || {}, u = res.usage || {}, c = res.usage_from_cache || {}, usd = res.cost;
        var label = t.alias + (nRuns > 1 ? " · run " + (r + 1) : "");
        body.push(el("tr", { "data-task": t.name, "data-run": r }, [
          el("td", { cls: "l", text: t.alias }), el("td", { cls: "l", text: nRuns > 1 ? "run " + (r + 1) : "" }),
          el("td", { text: A.int(u.input_tokens) + " / " + A.int(u.output_tokens) }),
          el("td", { text: A.int(c.input_tokens) + " / " + A.int(c.output_tokens) }),
          el("td", { cls: "cost-paid", text: usd ? A.usd(usd.paid) : "no price known" }),
          el("td", { cls: "cost-cached", text: usd ? A.usd(usd.cached) : "—" }),
          el("td", { cls: "time-paid", text: A.seconds(pr.time_paid_s) }), el("td", { cls: "time-cached", text: A.seconds(pr.time_cached_s) }),
          el("td", { text: A.int(pr.logged) })
        ]));
        time.push({ label: label, run: r, parts: [{ name: "paid", value: pr.time_paid_s }, { name: "cached", value: pr.time_cached_s }] });
        if (usd) cost.push({ label: label, run: r, parts: [{ name: "paid", value: usd.paid }, { name: "cached", value: usd.cached }] });
      }
    });
    box.appendChild(el("h3", { text: "Per task" }));
    box.appendChild(el("table", { id: "breakdown-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]));
    box.appendChild(el("p", { cls: "muted", text: "Time: the sum of each logged sample's latency (requests overlap, so it exceeds the wall time). Cached: answers served from the cache, not paid again; their cost is what they would have cost. Solid: paid; light: cached." }));
    if (time.some(function (r) { return num(r.parts[0].value) || num(r.parts[1].value); })) {
      box.appendChild(el("h3", { text: "Time per task" }));
      box.appendChild(A.stackedChart("time-chart", time, A.seconds));
    }
    if (cost.length) {
      box.appendChild(el("h3", { text: "Cost per task" }));
      box.appendChild(A.stackedChart("cost-chart", cost, A.usd));
    }
  }

  function ready() {
    window.assayReport = { readyMs: performance.now() - started, items: D ? D.items.length : 0, runs: nRuns || 0,
                           timings: timings };
    document.body.setAttribute("data-ready", "1");
  }
  function start(payloads, medias, leftOut, title) {
    var t = performance.now();
    D = join(payloads, medias);
    timings.join = performance.now() - t;
    nRuns = D.runs.length;
    var heading = title || titleOf(D.runs);
    document.getElementById("title").textContent = heading;
    document.title = heading;
    if (leftOut) document.getElementById("runs").appendChild(el("p", { cls: "muted", text: leftOut + " thumbnails not embedded: over the media budget." }));
    var steps = [["header", renderHeader], ["metric chart", renderMetricChart], ["metrics", renderMetrics],
                 ["deltas", renderDeltas], ["judge", renderJudge], ["errors", renderErrors], ["usage", renderUsage],
                 ["samples", function () { A.renderSamples(D); }]];
    steps.forEach(function (step) {
      var t = performance.now();
      try { step[1](); } catch (e) {  // one part that cannot be drawn must not blank the others
        console.error("assay report: " + step[0] + ": " + e);
        document.querySelector("main").insertBefore(el("p", { cls: "error-text", text: "The " + step[0] + " part of this report could not be drawn: " + e }), document.querySelector("main").firstChild);
      }
      timings[step[0]] = performance.now() - t;
    });
    ready();
  }

  if (D0.sources) loadSources();
  else start(D0.runs, D0.runs.map(function () { return D0.media; }), D0.budget ? D0.budget.left_out : 0, D0.title);
})();
