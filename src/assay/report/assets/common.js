// assay report, shared helpers: DOM building (every value goes in as text, never as markup), number
// formatting that survives any value (a NaN arrives as the string "NaN" and is shown as such).
(function () {
  "use strict";
  var A = window.assay = window.assay || {};
  var SVG_NS = "http://www.w3.org/2000/svg";

  function build(node, props, children) {
    if (props) {
      for (var k in props) {
        if (!Object.prototype.hasOwnProperty.call(props, k) || props[k] === undefined || props[k] === null) continue;
        if (k === "text") node.textContent = String(props[k]);
        else if (k === "cls") node.setAttribute("class", props[k]);
        else node.setAttribute(k, String(props[k]));
      }
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  A.el = function (tag, props, children) { return build(document.createElement(tag), props, children); };
  A.svg = function (tag, props, children) { return build(document.createElementNS(SVG_NS, tag), props, children); };
  // A finite number, or null (strings such as "NaN", booleans, objects are not numbers here).
  A.num = function (v) { return typeof v === "number" && isFinite(v) ? v : null; };
  A.fmt = function (v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) > 1 ? String(v) : v.toFixed(4);
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  };
  A.int = function (v) { return A.num(v) === null ? (v === null || v === undefined ? "—" : String(v)) : v.toLocaleString("en-US"); };
  A.usd = function (v) { return A.num(v) === null ? "—" : "$" + v.toFixed(4); };
  A.seconds = function (v) {
    var s = A.num(v);
    if (s === null) return v === null || v === undefined ? "—" : String(v);
    if (s < 60) return s.toFixed(1) + " s";
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = Math.round(s % 60);
    return (h ? h + " h " : "") + m + " min " + r + " s";
  };
  // An ISO time to the second, in UTC ("2026-12-04 05:06:37 UTC"); anything else shown as given.
  A.when = function (iso) {
    if (typeof iso !== "string") return "—";
    var t = Date.parse(iso);
    if (isNaN(t)) return iso;
    return new Date(t).toISOString().slice(0, 19).replace("T", " ") + " UTC";
  };
  A.data = function (id) { return JSON.parse(document.getElementById(id).textContent); };
  A.PALETTE = ["#3559b7", "#d9822b", "#2e9e6b", "#b7355f", "#7a5bc7", "#8a8f2a", "#2a8a8f", "#8f4a2a"];
})();
