// sitegen: theme toggle, offline search over window.SITEGEN_INDEX, and live reload under `site serve`.
// The search index is a script (file:// forbids fetch) added to the page only when the reader first uses search, so
// reading a page never loads the whole site's index.
(function () {
  "use strict";
  var html = document.documentElement;
  var root = html.dataset.root || "./";

  var toggle = document.getElementById("theme-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var dark = html.dataset.theme
        ? html.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      html.dataset.theme = dark ? "light" : "dark";
      try { localStorage.setItem("sitegen-theme", html.dataset.theme); } catch (e) {}
    });
  }

  var input = document.getElementById("search");
  var list = document.getElementById("search-results");
  var prepared = null; // the index, once loaded
  var loading = false;

  function loadIndex() {
    if (prepared || loading) return;
    loading = true;
    var s = document.createElement("script");
    s.src = root + "_assets/search-index.js";
    s.onload = function () {
      prepared = (window.SITEGEN_INDEX || []).map(function (e) {
        return {
          e: e,
          title: e.t.toLowerCase(),
          heads: (e.h || []).join(" ").toLowerCase(),
          words: " " + e.w + " "
        };
      });
      window.SITEGEN_INDEX = null;
      if (input) show(search(input.value), input.value.trim());
    };
    s.onerror = function () { loading = false; };
    document.head.appendChild(s);
  }

  function score(p, terms) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i], s = 0;
      if (p.title.indexOf(t) >= 0) s += 10;
      if (p.heads.indexOf(t) >= 0) s += 4;
      if (p.words.indexOf(" " + t) >= 0) s += 1;
      if (s === 0) return 0;
      total += s;
    }
    return total;
  }

  function search(q) {
    var terms = q.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter(function (t) { return t.length > 0; });
    if (terms.length === 0 || !prepared) return [];
    var hits = [];
    for (var i = 0; i < prepared.length; i++) {
      var s = score(prepared[i], terms);
      if (s > 0) hits.push({ s: s, i: i });
    }
    hits.sort(function (a, b) { return b.s - a.s || a.i - b.i; });
    return hits.slice(0, 20).map(function (h) { return prepared[h.i].e; });
  }

  function show(results, q) {
    list.textContent = "";
    if (!q) { list.hidden = true; return; }
    if (results.length === 0) {
      var none = document.createElement("li");
      none.className = "r-none";
      none.textContent = "No results";
      none.style.padding = ".35rem .8rem";
      list.appendChild(none);
    }
    results.forEach(function (e) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + e.u;
      var t = document.createElement("span");
      t.className = "r-title";
      t.textContent = e.t;
      a.appendChild(t);
      if (e.d) {
        var d = document.createElement("span");
        d.className = "r-sum";
        d.textContent = e.d;
        a.appendChild(d);
      }
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
  }

  if (input && list) {
    input.addEventListener("focus", loadIndex);
    input.addEventListener("input", function () {
      loadIndex();
      if (prepared) show(search(input.value), input.value.trim());
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        var first = list.querySelector("a");
        if (first) window.location.href = first.href;
      } else if (ev.key === "Escape") {
        input.value = "";
        show([], "");
      }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "/" && document.activeElement !== input) { ev.preventDefault(); input.focus(); }
    });
  }

  var lr = html.dataset.livereload;
  if (lr && window.EventSource) {
    var es = new EventSource(lr);
    es.addEventListener("reload", function () { window.location.reload(); });
  }
})();
