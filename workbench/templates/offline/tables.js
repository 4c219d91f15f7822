/* Sort every table marked data-wb-sort by a click on its header, and search those marked
   data-wb-search; nothing is fetched. Written by the workbench: `workbench verify` accepts
   this script only as this exact text (workbench/reportset/pagescan.py). */
(function () {
  "use strict";
  function key(cell) {
    if (!cell) return "";
    var raw = cell.getAttribute("data-v");
    return raw === null ? cell.textContent.trim() : parseFloat(raw);
  }
  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    if (typeof a === "number") return -1;
    if (typeof b === "number") return 1;
    return a.localeCompare(b, undefined, { numeric: true });
  }
  function sortable(table) {
    if (!table.tHead || !table.tBodies.length) return;
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, column) {
      th.tabIndex = 0;
      th.title = table.getAttribute("data-wb-sort");
      th.classList.add("wb-sortable");
      th.setAttribute("aria-sort", "none");
      function sort() {
        var up = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r, s) {
          var c = compare(key(r.cells[column]), key(s.cells[column]));
          return up ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  }
  function searchable(table) {
    if (!table.tBodies.length) return;
    var box = document.createElement("input");
    box.type = "search";
    box.className = "wb-search";
    box.placeholder = table.getAttribute("data-wb-search");
    box.setAttribute("aria-label", box.placeholder);
    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.hidden = words !== "" && r.textContent.toLowerCase().indexOf(words) < 0;
      });
    });
    table.parentNode.insertBefore(box, table);
  }
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-wb-sort]"), sortable);
    Array.prototype.forEach.call(document.querySelectorAll("table[data-wb-search]"), searchable);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
