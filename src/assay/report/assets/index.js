// assay report folder, the index: one row per run; sort by any column, filter, tick runs to compare.
(function () {
  "use strict";
  var A = window.assay, el = A.el;
  var started = performance.now();
  var D = A.data("assay-data");
  var sort = { key: "started_at", dir: -1 }, picked = {};
  var COLUMNS = [
    ["", null], ["started", "started_at"], ["model", "model"], ["provider", "provider"], ["status", "status"],
    ["tasks", "tasks"], ["headline metrics", "headline"], ["cost", "cost"], ["duration", "wall_s"], ["samples", "logged"]
  ];

  function sortValue(row, key) {
    var v = row[key];
    if (key === "tasks") return v.join(", ");
    if (key === "headline") return v.length ? A.num(v[0].value) : null;
    if (key === "logged") return row.has_samples ? v : -1;
    return v === undefined ? null : v;
  }
  function compare(a, b) {
    var x = sortValue(a, sort.key), y = sortValue(b, sort.key);
    if (x === y) return a.run_id === b.run_id ? 0 : (a.run_id < b.run_id ? -sort.dir : sort.dir);  // run ids start with their time
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === "number" && typeof y === "number") return (x - y) * sort.dir;
    return String(x).localeCompare(String(y)) * sort.dir;
  }
  function matches(row, needle, status) {
    if (status && row.status !== status) return false;
    if (!needle) return true;
    var hay = [row.model, row.provider, row.run_id, row.status, row.status_reason].concat(row.tasks).join(" ").toLowerCase();
    return hay.indexOf(needle) >= 0;
  }
  function headline(row) {
    if (!row.headline.length) return el("td", { cls: "l muted", text: "—" });
    return el("td", { cls: "l headline" }, row.headline.map(function (h) {
      return el("div", null, [el("span", { cls: "muted", text: h.task + " · " + h.metric + " " }), el("b", { text: A.fmt(h.value) })]);
    }));
  }
  function cell(text, cls) { return el("td", { cls: cls || "l", text: text }); }
  function render() {
    var needle = document.getElementById("i-text").value.trim().toLowerCase();
    var status = document.getElementById("i-status").value;
    var rows = D.rows.filter(function (r) { return matches(r, needle, status); }).sort(compare);
    var head = COLUMNS.map(function (c) {
      var th = el("th", { cls: "l" + (c[1] ? " sortable" : ""), "data-key": c[1] || "", text: c[0] + (c[1] === sort.key ? (sort.dir > 0 ? " ▲" : " ▼") : "") });
      if (c[1]) th.addEventListener("click", function () { sort = { key: c[1], dir: sort.key === c[1] ? -sort.dir : 1 }; render(); });
      return th;
    });
    var body = rows.map(function (r) {
      var box = el("input", { type: "checkbox", cls: "pick", value: r.key, title: "compare" });
      box.disabled = !!r.broken;
      box.checked = !!picked[r.key];
      box.addEventListener("change", function () { if (box.checked) picked[r.key] = true; else delete picked[r.key]; updateButton(); });
      return el("tr", { "data-key": r.key }, [
        el("td", null, [box]), cell(A.when(r.started_at)),
        el("td", { cls: "l" }, [r.broken ? el("span", { text: r.model }) : el("a", { href: "report.html#" + r.key, cls: "open", text: r.model }),
                                el("div", { cls: "muted", text: r.run_id })]),
        cell(r.provider || "—"), el("td", { cls: "l status-" + r.status, text: r.status + (r.status_reason ? ": " + r.status_reason : "") }),
        cell(r.tasks.join(", ")), headline(r), cell(A.num(r.cost) !== null ? A.usd(r.cost) : "—", "r"),
        cell(A.seconds(r.wall_s), "r"), cell(r.has_samples ? A.int(r.logged) : "no samples logged", r.has_samples ? "r" : "r muted")
      ]);
    });
    var box = document.getElementById("index");
    box.textContent = "";
    box.appendChild(el("table", { id: "index-table" }, [el("thead", null, [el("tr", null, head)]), el("tbody", null, body)]));
    document.getElementById("i-count").textContent = rows.length + " of " + D.rows.length + " runs";
  }
  function updateButton() {
    var keys = Object.keys(picked);
    var button = document.getElementById("open-selected");
    button.disabled = keys.length === 0;
    button.textContent = keys.length > 1 ? "Open " + keys.length + " runs side by side" : "Open selected side by side";
  }
  var statuses = D.rows.map(function (r) { return r.status; }).filter(function (s, i, a) { return a.indexOf(s) === i; });
  var select = document.getElementById("i-status");
  select.appendChild(el("option", { value: "", text: "any" }));
  statuses.forEach(function (s) { select.appendChild(el("option", { value: s, text: s })); });
  select.addEventListener("change", render);
  var timer = null;
  document.getElementById("i-text").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(render, 100); });
  document.getElementById("open-selected").addEventListener("click", function () {
    var order = D.rows.map(function (r) { return r.key; }).filter(function (k) { return picked[k]; });
    if (order.length) location.href = "report.html#" + order.join(",");
  });
  render();
  window.assayIndex = { readyMs: performance.now() - started, runs: D.rows.length };
  document.body.setAttribute("data-ready", "1");
})();
