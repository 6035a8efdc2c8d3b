// assay report: renders the embedded run data. No network, no libraries; every value goes in as text.
(function () {
  "use strict";
  var started = performance.now();
  var D = JSON.parse(document.getElementById("assay-data").textContent);
  var PAGE = 50;
  var STATES = ["correct", "wrong", "partial", "scored", "error", "answered"];
  var nRuns = D.runs.length;
  var view = { task: -1, state: "", run: -1, disagree: false, text: "", page: 0 };
  var filtered = [];

  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      for (var k in props) {
        if (!Object.prototype.hasOwnProperty.call(props, k) || props[k] === undefined || props[k] === null) continue;
        if (k === "text") node.textContent = String(props[k]);
        else if (k === "cls") node.className = props[k];
        else node.setAttribute(k, props[k]);
      }
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) > 1 ? String(v) : v.toFixed(4);
    return String(v);
  }
  function int(v) { return (v === null || v === undefined) ? "—" : Number(v).toLocaleString("en-US"); }
  function runName(i) { return nRuns > 1 ? "run " + (i + 1) : "value"; }

  function renderRuns() {
    var box = el("div", { cls: "runs" });
    D.runs.forEach(function (r, i) {
      box.appendChild(el("div", { cls: "run" }, [
        nRuns > 1 ? el("b", { text: "run " + (i + 1) + ": " }) : null,
        el("span", { text: r.label + " " }),
        el("span", { cls: "status-" + r.status, text: "[" + r.status + (r.status_reason ? ": " + r.status_reason : "") + "]" }),
        el("span", { cls: "muted", text: " " + (r.started_at || "") + (r.wall_s != null ? " · " + r.wall_s.toFixed(1) + " s" : "") })
      ]));
    });
    document.getElementById("runs").appendChild(box);
  }

  function metricCell(m) {
    if (!m) return el("td", { text: "—" });
    var parts = [fmt(m.value)];
    if (typeof m.stderr === "number") parts.push(" ± " + m.stderr.toFixed(4));
    var cell = el("td", null, [parts.join("")]);
    var extra = [];
    if (m.ci95 && m.ci95.length === 2) extra.push("95% CI [" + fmt(m.ci95[0]) + ", " + fmt(m.ci95[1]) + "]");
    if (m.n !== undefined && m.n !== null) extra.push("n=" + m.n);
    if (extra.length) cell.appendChild(el("div", { cls: "muted", text: extra.join(" · ") }));
    return cell;
  }
  function deltaCell(base, m, higher) {
    if (!base || !m || typeof base.value !== "number" || typeof m.value !== "number") return el("td", { text: "—" });
    var d = m.value - base.value;
    var better = higher ? d > 0 : d < 0;
    var cls = d === 0 ? "" : (better ? "delta-up" : "delta-down");
    return el("td", { cls: cls, text: (d > 0 ? "+" : "") + d.toFixed(4) });
  }
  function metricsTable(rows, label) {
    var head = [el("th", { cls: "l", text: label }), el("th", { cls: "l", text: "metric" })];
    for (var i = 0; i < nRuns; i++) head.push(el("th", { text: runName(i) }));
    for (var j = 1; j < nRuns; j++) head.push(el("th", { text: "Δ run " + (j + 1) + " − run 1" }));
    var body = rows.map(function (row) {
      var tr = el("tr", { cls: row.primary ? "primary" : "" }, [el("td", { cls: "l", text: row.name }),
                                                                  el("td", { cls: "l", text: row.metric })]);
      row.cells.forEach(function (m) { tr.appendChild(metricCell(m)); });
      for (var k = 1; k < nRuns; k++) tr.appendChild(deltaCell(row.cells[0], row.cells[k], row.higher));
      return tr;
    });
    return el("table", { id: label + "-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]);
  }
  function renderMetrics() {
    var rows = [];
    D.tasks.forEach(function (t) {
      var names = [];
      t.per_run.forEach(function (pr) { if (pr) Object.keys(pr.metrics).forEach(function (m) { if (names.indexOf(m) < 0) names.push(m); }); });
      names.forEach(function (m) {
        var cells = t.per_run.map(function (pr) { return pr ? pr.metrics[m] : null; });
        var higher = cells.some(function (c) { return c && c.higher_is_better === false; }) ? false : true;
        rows.push({ name: t.alias, metric: m, cells: cells, primary: m === t.primary, higher: higher });
      });
    });
    var box = document.getElementById("metrics");
    if (!rows.length) box.appendChild(el("p", { cls: "empty", text: "No metrics (a --predict_only run, or no task finished)." }));
    else box.appendChild(metricsTable(rows, "task"));
    var grows = [];
    D.groups.forEach(function (g) {
      var names = [];
      g.per_run.forEach(function (pr) { if (pr) Object.keys(pr.metrics).forEach(function (m) { if (names.indexOf(m) < 0) names.push(m); }); });
      names.forEach(function (m) {
        grows.push({ name: g.name, metric: m, cells: g.per_run.map(function (pr) { return pr ? pr.metrics[m] : null; }), higher: true });
      });
    });
    if (grows.length) box.appendChild(metricsTable(grows, "group"));
  }

  function kinds(obj) {
    var keys = Object.keys(obj || {});
    return keys.map(function (k) {
      var v = obj[k];
      if (v !== null && typeof v === "object") return k + ": " + JSON.stringify(v);
      return k + ": " + (Number.isInteger(v) ? String(v) : fmt(v));
    }).join(", ");
  }
  function renderErrors() {
    var head = [el("th", { cls: "l", text: "task" })];
    for (var i = 0; i < nRuns; i++) head.push(el("th", { cls: "l", text: nRuns > 1 ? "run " + (i + 1) : "errors" }));
    var body = D.tasks.map(function (t) {
      var tr = el("tr", null, [el("td", { cls: "l", text: t.alias })]);
      t.per_run.forEach(function (pr) {
        if (!pr) { tr.appendChild(el("td", { cls: "l", text: "—" })); return; }
        var cell = el("td", { cls: "l" }, [int(pr.n_errors) + " of " + int(pr.n_samples) + " failed"]);
        var k = kinds(pr.errors); if (k) cell.appendChild(el("div", { cls: "muted", text: k }));
        var j = kinds(pr.judge); if (j) cell.appendChild(el("div", { cls: "muted", text: "judge: " + j }));
        tr.appendChild(cell);
      });
      return tr;
    });
    document.getElementById("errors").appendChild(
      el("table", { id: "errors-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]));
  }

  function renderUsage() {
    var rows = [
      ["input tokens (paid)", function (r) { return int(r.usage.input_tokens); }],
      ["output tokens (paid)", function (r) { return int(r.usage.output_tokens); }],
      ["input tokens (from cache)", function (r) { return int((r.usage.from_cache || {}).input_tokens); }],
      ["output tokens (from cache)", function (r) { return int((r.usage.from_cache || {}).output_tokens); }],
      ["cost", function (r) { return costText(r.cost); }],
      ["requests", function (r) { return int(r.model_stats.requests); }],
      ["retries", function (r) { return int(r.model_stats.retries); }],
      ["cache hits", function (r) { return int(r.model_stats.cache_hits); }],
      ["wall time (s)", function (r) { return r.wall_s == null ? "—" : r.wall_s.toFixed(1); }]
    ];
    var head = [el("th", { cls: "l", text: "" })];
    for (var i = 0; i < nRuns; i++) head.push(el("th", { text: nRuns > 1 ? "run " + (i + 1) : "this run" }));
    var body = rows.map(function (row) {
      var tr = el("tr", null, [el("td", { cls: "l", text: row[0] })]);
      D.runs.forEach(function (r) { tr.appendChild(el("td", { text: row[1](r) })); });
      return tr;
    });
    document.getElementById("usage").appendChild(
      el("table", { id: "usage-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]));
  }
  function costText(cost) {
    if (cost === null || cost === undefined) return "—";
    if (typeof cost === "number") return "$" + cost.toFixed(4);
    var total = cost.total_usd !== undefined ? cost.total_usd : cost.usd;
    var text = typeof total === "number" ? "$" + total.toFixed(4) : "— (no price known)";
    if (typeof cost.max_cost === "number") {
      text += " of $" + cost.max_cost.toFixed(2) + " cap" + (cost.cap_reached ? " (reached)" : "");
    }
    return text;
  }

  // -- samples -------------------------------------------------------------------------------------
  function stateOf(item, run) { var r = item.r[run]; return r ? r.s : null; }
  function disagrees(item) {
    var seen = null;
    for (var i = 0; i < nRuns; i++) {
      var s = stateOf(item, i); if (s === null) continue;
      if (seen === null) seen = s; else if (s !== seen) return true;
    }
    return false;
  }
  function matchesText(item, needle) {
    if ((item.p || "").toLowerCase().indexOf(needle) >= 0 || (item.g || "").toLowerCase().indexOf(needle) >= 0) return true;
    for (var i = 0; i < nRuns; i++) {
      var r = item.r[i];
      if (r && ((r.a || "").toLowerCase().indexOf(needle) >= 0 || (r.j || "").toLowerCase().indexOf(needle) >= 0)) return true;
    }
    return false;
  }
  function applyFilters() {
    var needle = view.text.trim().toLowerCase();
    filtered = D.items.filter(function (item) {
      if (view.task >= 0 && item.t !== view.task) return false;
      if (view.state) {
        var hit = false;
        for (var i = 0; i < nRuns; i++) if ((view.run < 0 || view.run === i) && stateOf(item, i) === view.state) hit = true;
        if (!hit) return false;
      }
      if (view.disagree && !disagrees(item)) return false;
      return !needle || matchesText(item, needle);
    });
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE));
    if (view.page >= pages) view.page = pages - 1;
    renderPage();
  }
  function pager(box) {
    box.textContent = "";
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE));
    var from = filtered.length ? view.page * PAGE + 1 : 0;
    var to = Math.min(filtered.length, (view.page + 1) * PAGE);
    var prev = el("button", { type: "button", cls: "prev", text: "‹ previous" });
    var next = el("button", { type: "button", cls: "next", text: "next ›" });
    prev.disabled = view.page === 0; next.disabled = view.page >= pages - 1;
    prev.addEventListener("click", function () { view.page -= 1; renderPage(); });
    next.addEventListener("click", function () { view.page += 1; renderPage(); });
    box.appendChild(prev); box.appendChild(next);
    box.appendChild(el("span", { cls: "count", text: "samples " + from + "–" + to + " of " + filtered.length +
      (filtered.length !== D.items.length ? " (filtered from " + D.items.length + ")" : "") + " · page " + (view.page + 1) + " of " + pages }));
  }
  function field(label, text, cls) {
    if (text === null || text === undefined || text === "") return null;
    return el("div", { cls: "field" }, [el("b", { text: label }), el("pre", { cls: cls || "", text: text })]);
  }
  function sampleCard(item) {
    var task = D.tasks[item.t];
    var meta = el("div", { cls: "meta" }, [el("b", { text: task.alias }), el("span", { cls: "muted", text: "doc " + item.d })]);
    for (var i = 0; i < nRuns; i++) {
      var s = stateOf(item, i);
      meta.appendChild(el("span", { cls: "chip s-" + (s || "answered"), title: nRuns > 1 ? D.runs[i].label : "", text: (nRuns > 1 ? (i + 1) + ": " : "") + (s || "missing") }));
    }
    var card = el("article", { cls: "sample", "data-task": task.name, "data-doc": String(item.d) }, [meta]);
    if (item.i && item.i.length) {
      var thumbs = el("div", { cls: "thumbs" });
      item.i.forEach(function (m, k) {
        thumbs.appendChild(el("a", { href: m[0], target: "_blank", rel: "noopener" },
          [el("img", { src: m[0], loading: "lazy", alt: m[1] + " " + (k + 1), title: m[1] })]));
      });
      card.appendChild(thumbs);
    }
    card.appendChild(field("prompt", item.p, "t-prompt"));
    card.appendChild(field("target", item.g, "t-target"));
    var answers = el("div", { cls: "answers" });
    for (var j = 0; j < nRuns; j++) {
      var r = item.r[j];
      var box = el("div", { cls: "answer b-" + (r ? r.s : "answered") });
      if (nRuns > 1) box.appendChild(el("div", { cls: "muted", text: "run " + (j + 1) + ": " + D.runs[j].label }));
      if (!r) { box.appendChild(el("div", { cls: "muted", text: "not in this run" })); answers.appendChild(box); continue; }
      box.appendChild(field("answer", r.a === null || r.a === undefined ? "(no answer)" : r.a, "t-answer"));
      if (r.m) box.appendChild(el("div", { cls: "muted metrics", text: kinds(r.m) }));
      if (r.e) box.appendChild(el("div", { cls: "error-text", text: r.e[0] + ": " + r.e[1] }));
      if (r.j) box.appendChild(field("judge", r.j, "t-judge"));
      answers.appendChild(box);
    }
    card.appendChild(answers);
    return card;
  }
  function renderPage() {
    var list = document.getElementById("samples");
    list.textContent = "";
    var slice = filtered.slice(view.page * PAGE, (view.page + 1) * PAGE);
    if (!slice.length) list.appendChild(el("p", { cls: "empty", text: D.items.length ? "No sample matches these filters." : "This run logged no samples (run with --log_samples)." }));
    var frag = document.createDocumentFragment();
    slice.forEach(function (item) { frag.appendChild(sampleCard(item)); });
    list.appendChild(frag);
    pager(document.getElementById("pager-top"));
    pager(document.getElementById("pager-bottom"));
  }
  function setupFilters() {
    var task = document.getElementById("f-task");
    task.appendChild(el("option", { value: "-1", text: "all tasks" }));
    D.tasks.forEach(function (t, i) { task.appendChild(el("option", { value: String(i), text: t.alias })); });
    var state = document.getElementById("f-state");
    state.appendChild(el("option", { value: "", text: "any" }));
    STATES.forEach(function (s) { state.appendChild(el("option", { value: s, text: s })); });
    var run = document.getElementById("f-run");
    run.appendChild(el("option", { value: "-1", text: "any run" }));
    D.runs.forEach(function (r, i) { run.appendChild(el("option", { value: String(i), text: "run " + (i + 1) })); });
    if (nRuns < 2) {
      document.getElementById("f-run-label").hidden = true;
      document.getElementById("f-disagree-label").hidden = true;
    }
    function on(id, evt, fn) { document.getElementById(id).addEventListener(evt, function (e) { fn(e.target); view.page = 0; applyFilters(); }); }
    on("f-task", "change", function (t) { view.task = Number(t.value); });
    on("f-state", "change", function (t) { view.state = t.value; });
    on("f-run", "change", function (t) { view.run = Number(t.value); });
    on("f-disagree", "change", function (t) { view.disagree = t.checked; });
    var timer = null;
    document.getElementById("f-text").addEventListener("input", function (e) {
      clearTimeout(timer);
      timer = setTimeout(function () { view.text = e.target.value; view.page = 0; applyFilters(); }, 150);
    });
  }

  renderRuns();
  renderMetrics();
  renderErrors();
  renderUsage();
  setupFilters();
  applyFilters();
  window.assayReport = { readyMs: performance.now() - started, items: D.items.length, runs: nRuns };
  document.body.setAttribute("data-ready", "1");
})();
