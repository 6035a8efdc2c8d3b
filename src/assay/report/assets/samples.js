// assay report, the samples: filters (task, outcome, run, disagreement, text), pages of 50, and one card
// per doc with every run's answer, its own scores, the judge's verdict and words, and the doc's media.
(function () {
  "use strict";
  var A = window.assay, el = A.el, fmt = A.fmt;
  var PAGE = 50;
  var STATES = ["correct", "wrong", "partial", "scored", "error", "answered"];
  var D, nRuns, view = { task: -1, state: "", run: -1, disagree: false, text: "", page: 0 }, filtered = [];

  function stateOf(item, run) { var r = item.r[run]; return r ? r.s : null; }
  function disagrees(item) {
    var seen = null;
    for (var i = 0; i < nRuns; i++) {
      var s = stateOf(item, i); if (s === null) continue;
      if (seen === null) seen = s; else if (s !== seen) return true;
    }
    return false;
  }
  function has(text, needle) { return typeof text === "string" && text.toLowerCase().indexOf(needle) >= 0; }
  function matchesText(item, needle) {
    if (has(item.p, needle) || has(item.g, needle)) return true;
    for (var i = 0; i < nRuns; i++) { var r = item.r[i]; if (r && (has(r.a, needle) || has(r.j, needle))) return true; }
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
    var from = filtered.length ? view.page * PAGE + 1 : 0, to = Math.min(filtered.length, (view.page + 1) * PAGE);
    var prev = el("button", { type: "button", cls: "prev", text: "‹ previous" }), next = el("button", { type: "button", cls: "next", text: "next ›" });
    prev.disabled = view.page === 0; next.disabled = view.page >= pages - 1;
    prev.addEventListener("click", function () { view.page -= 1; renderPage(); });
    next.addEventListener("click", function () { view.page += 1; renderPage(); });
    box.appendChild(prev); box.appendChild(next);
    box.appendChild(el("span", { cls: "count", text: "samples " + from + "–" + to + " of " + filtered.length +
      (filtered.length !== D.items.length ? " (filtered from " + D.items.length + ")" : "") + " · page " + (view.page + 1) + " of " + pages }));
  }
  function add(parent, child) { if (child) parent.appendChild(child); }
  function field(label, text, cls) {
    if (text === null || text === undefined || text === "") return null;
    return el("div", { cls: "field" }, [el("b", { text: label }), el("pre", { cls: cls || "", text: text })]);
  }
  function audioNote(item) {
    var parts = [];
    item.r.forEach(function (r) { if (r && r.au && !parts.length) parts = r.au; });
    if (!parts.length) return null;
    return el("div", { cls: "muted audio-parts", text: "audio sent: " + parts.map(function (a) {
      return A.seconds(a[0]) + (A.num(a[1]) !== null ? " at " + a[1] + " Hz" : "") + (a[2] ? " (" + a[2] + ")" : "");
    }).join(", ") });
  }
  function mediaBox(item) {
    if (!item.i.length && !item.x) return null;
    var box = el("div", { cls: "thumbs" });
    item.i.forEach(function (m, k) {
      if (m[1] === "audio") { box.appendChild(el("audio", { controls: "", preload: "none", src: m[0], title: "audio " + (k + 1) })); return; }
      var label = m[1] === "video_frame" ? "frame " + m[2] : m[1] + " " + (k + 1);
      box.appendChild(el("img", { src: m[0], loading: "lazy", alt: label, title: label }));
    });
    if (item.x) box.appendChild(el("span", { cls: "muted", text: item.x + " more not embedded (over the report's media budget; see the run's media folder)" }));
    return box;
  }
  function scoresBox(r) {
    if (!r.m) return null;
    var box = el("div", { cls: "scores" });
    Object.keys(r.m).forEach(function (k) { box.appendChild(el("span", { cls: "score", "data-metric": k, text: k + " = " + fmt(r.m[k]) })); });
    return box;
  }
  function sampleCard(item) {
    var task = D.tasks[item.t];
    var meta = el("div", { cls: "meta" }, [el("b", { text: task.alias }), el("span", { cls: "muted", text: "doc " + String(item.d) })]);
    for (var i = 0; i < nRuns; i++) {
      var s = stateOf(item, i);
      meta.appendChild(el("span", { cls: "chip s-" + (s || "answered"), title: nRuns > 1 ? D.runs[i].label : "", text: (nRuns > 1 ? (i + 1) + ": " : "") + (s || "missing") }));
    }
    var card = el("article", { cls: "sample", "data-task": task.name, "data-doc": String(item.d) }, [meta, mediaBox(item), audioNote(item)]);
    add(card, field("prompt", item.p, "t-prompt"));
    add(card, field("target", item.g, "t-target"));
    var answers = el("div", { cls: "answers" });
    for (var j = 0; j < nRuns; j++) {
      var r = item.r[j], box = el("div", { cls: "answer b-" + (r ? r.s : "answered") });
      if (nRuns > 1) box.appendChild(el("div", { cls: "muted", text: "run " + (j + 1) + ": " + D.runs[j].label }));
      if (!r) { box.appendChild(el("div", { cls: "muted", text: "not in this run" })); answers.appendChild(box); continue; }
      add(box, field("answer", r.a === null || r.a === undefined ? "(no answer)" : r.a, "t-answer"));
      add(box, scoresBox(r));
      if (r.e) box.appendChild(el("div", { cls: "error-text", text: r.e[0] + ": " + r.e[1] }));
      if (r.v) box.appendChild(el("div", { cls: "verdict", text: "judge verdict: " + r.v.map(fmt).join(", ") }));
      if (r.j) add(box, field("judge said", r.j, "t-judge"));
      answers.appendChild(box);
    }
    card.appendChild(answers);
    return card;
  }
  function renderPage() {
    var list = document.getElementById("samples");
    list.textContent = "";
    var slice = filtered.slice(view.page * PAGE, (view.page + 1) * PAGE);
    var none = D.runs.every(function (r) { return !r.has_samples; });
    if (!slice.length) list.appendChild(el("p", { cls: "empty", text: D.items.length ? "No sample matches these filters." : (none ? "No samples: this run was not logged with --log_samples." : "No sample was logged.") }));
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
    if (nRuns < 2) { document.getElementById("f-run-label").hidden = true; document.getElementById("f-disagree-label").hidden = true; }
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


  A.renderSamples = function (data) {
    D = data;
    nRuns = D.runs.length;
    setupFilters();
    applyFilters();
  };
})();
