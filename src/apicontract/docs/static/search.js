/* Search across operations, fields, error codes and enum values of every API, from window.SEARCH_INDEX
   (search-index.js, written at build time). No library and no network: it runs from file:// as well. */
(function () {
  "use strict";
  var index = window.SEARCH_INDEX || [];
  var input = document.getElementById("search-input");
  var box = document.getElementById("search-results");
  var KIND_ORDER = { operation: 0, webhook: 1, error: 2, field: 3, schema: 4, value: 5 };
  var LIMIT = 40;

  var toc = document.getElementById("toc");
  if (toc && window.matchMedia && window.matchMedia("(min-width: 60rem)").matches) toc.open = true;
  if (!input || !box) return;

  function score(entry, query, words) {
    var term = entry.t.toLowerCase();
    var hay = term + " " + (entry.x || "").toLowerCase() + " " + entry.d.toLowerCase();
    for (var i = 0; i < words.length; i++) if (hay.indexOf(words[i]) < 0) return -1;
    if (term === query) return 0;
    if (term.indexOf(query) === 0) return 1;
    if (term.indexOf(query) >= 0) return 2;
    return 3;
  }

  function search(query) {
    query = query.trim().toLowerCase();
    if (!query) return [];
    var words = query.split(/\s+/);
    var hits = [];
    for (var i = 0; i < index.length; i++) {
      var s = score(index[i], query, words);
      if (s >= 0) hits.push({ s: s, k: KIND_ORDER[index[i].k] || 9, i: i });
    }
    hits.sort(function (a, b) { return a.s - b.s || a.k - b.k || a.i - b.i; });
    return hits.map(function (h) { return index[h.i]; });
  }

  function render(results) {
    box.textContent = "";
    if (!input.value.trim()) { box.hidden = true; return; }
    if (!results.length) {
      var none = document.createElement("p");
      none.className = "search-none";
      none.textContent = "Nothing found.";
      box.appendChild(none);
    }
    results.slice(0, LIMIT).forEach(function (entry) {
      var link = document.createElement("a");
      link.className = "search-hit";
      link.href = entry.u;
      var kind = document.createElement("span");
      kind.className = "kind kind-" + entry.k;
      kind.textContent = entry.k;
      var term = document.createElement("code");
      term.textContent = entry.t;
      var where = document.createElement("span");
      where.className = "where";
      where.textContent = entry.d;
      link.appendChild(kind);
      link.appendChild(term);
      link.appendChild(where);
      link.addEventListener("click", function () { box.hidden = true; });
      box.appendChild(link);
    });
    if (results.length > LIMIT) {
      var more = document.createElement("p");
      more.className = "search-none";
      more.textContent = (results.length - LIMIT) + " more; type more to narrow the search.";
      box.appendChild(more);
    }
    box.hidden = false;
  }

  input.addEventListener("input", function () { render(search(input.value)); });
  input.addEventListener("focus", function () { if (input.value.trim()) render(search(input.value)); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { input.value = ""; render([]); }
    if (event.key === "Enter") {
      var first = box.querySelector("a.search-hit");
      if (first) { box.hidden = true; window.location.href = first.href; }
    }
  });
  document.addEventListener("click", function (event) {
    if (!box.contains(event.target) && event.target !== input) box.hidden = true;
  });
})();
