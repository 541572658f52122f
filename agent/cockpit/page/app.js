// The cockpit page: it polls GET /api/v1/apps and redraws the rows; actions send the agent's bearer token, which
// is asked for once and kept in sessionStorage for this browser tab.
"use strict";
(function () {
  const rowsEl = document.getElementById("rows");
  const fleetEl = document.getElementById("fleet");
  const agentEl = document.getElementById("agent");
  const msgEl = document.getElementById("message");
  const tokenForm = document.getElementById("token-form");
  const tokenInput = document.getElementById("token");
  const logPanel = document.getElementById("log-panel");
  const logEl = document.getElementById("log");
  let pending = null; // the action waiting for a token
  const jobs = {};    // job id -> last job answer, for progress

  const token = () => sessionStorage.getItem("herofleet-token") || "";

  function askToken(then) {
    pending = then;
    tokenForm.hidden = false;
    tokenInput.focus();
  }
  tokenForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("herofleet-token", tokenInput.value.trim());
    tokenInput.value = "";
    tokenForm.hidden = true;
    const then = pending; pending = null;
    if (then) then();
  });

  async function call(method, path) {
    if (!token()) { askToken(() => call(method, path)); return null; }
    const resp = await fetch(path, { method, headers: { Authorization: "Bearer " + token() } });
    if (resp.status === 401) {
      sessionStorage.removeItem("herofleet-token");
      msgEl.textContent = "The agent refused the token; enter it again.";
      askToken(() => call(method, path));
      return null;
    }
    const body = await resp.text();
    if (!resp.ok) {
      let err = body;
      try { err = JSON.parse(body).error || body; } catch (e) { /* plain text */ }
      msgEl.textContent = method + " " + path + ": " + err;
      return null;
    }
    msgEl.textContent = "";
    return body;
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  function stateCell(r) {
    const td = el("td", { class: "state" }, r.state);
    if (r.reason) td.append(el("div", { class: "reason" }, r.reason));
    if (r.until && (!r.reason || !r.reason.includes(r.until))) td.append(el("div", { class: "reason" }, "until " + r.until));
    const j = r.job && jobs[r.job];
    if (j) {
      td.append(el("div", { class: "progress" }, "job " + j.id + ": " + j.phase + (j.error ? " (" + j.error + ")" : "")));
      if (j.log_tail) td.append(el("div", { class: "progress log-tail" }, j.log_tail.split("\n").slice(-6).join("\n")));
    }
    return td;
  }

  function buttons(r) {
    const td = el("td", { class: "actions" });
    for (const a of r.actions || []) {
      const b = el("button", { "data-action": a }, a);
      if (r.type === "bundle") b.dataset.app = r.app; else b.dataset.binary = r.binary;
      td.append(b);
    }
    if (r.type === "binary" && r.clicked && r === firstOf[r.app]) {
      const b = el("button", { "data-action": "uninstall", "data-app": r.app }, "uninstall app");
      td.append(b);
    }
    return td;
  }

  let firstOf = {};
  function render(data) {
    fleetEl.className = "fleet state-" + data.fleet.state;
    // A newer commit than the applied one is pending (a maintenance window) or held (suspended): say which.
    const f = data.fleet;
    const newer = f.head && f.head !== f.commit
      ? " · newest " + f.head.slice(0, 12) + (f.state === "suspended" ? " (held while suspended)" : "") : "";
    // Held for the earlier rollout waves: which wave this host is in, and what it waits for since when.
    const r = f.rollout;
    const wave = r && r.wave ? " · wave " + r.wave : "";
    const waits = r && r.reason ? " · waits since " + new Date(r.since).toLocaleTimeString() + ": " + r.reason : "";
    fleetEl.textContent = "fleet " + (f.commit || "none").slice(0, 12) + " · " + f.state + newer + wave + waits +
      (f.error ? " · " + f.error : "");
    // The herofleet version the agent runs: on trial after a switch, and the last refusal or rollback.
    const ag = data.agent;
    agentEl.textContent = (data.agent_version ? "herofleet " + data.agent_version : "") +
      (ag && ag.deadline ? " · on trial until " + new Date(ag.deadline).toLocaleTimeString() + " (previous " + ag.previous + ")" : "") +
      (ag && ag.reason ? " · " + ag.reason : "");
    firstOf = {};
    for (const r of data.rows) if (!firstOf[r.app]) firstOf[r.app] = r;
    const body = document.createDocumentFragment();
    for (const r of data.rows) {
      let tr;
      if (r.type === "bundle") {
        const det = el("details", {}, el("summary", {}, r.binaries.length === 1 ? "1 binary" : r.binaries.length + " binaries"));
        for (const b of r.binaries) det.append(el("div", {}, b));
        tr = el("tr", { class: "bundle state-" + r.state, "data-app": r.app },
          el("td", {}, r.title || r.app), el("td", {}, det), stateCell(r),
          el("td"), el("td"), el("td"), el("td"), buttons(r));
      } else {
        const link = r.url ? el("a", { href: r.url, target: "_blank", rel: "noopener" }, r.url) : null;
        tr = el("tr", { class: "binary state-" + r.state, "data-app": r.app, "data-binary": r.binary },
          el("td", {}, r.title || r.app), el("td", {}, r.binary + " ", el("small", {}, r.kind)), stateCell(r),
          el("td", {}, link), el("td", {}, r.pid ? String(r.pid) : ""),
          el("td", {}, r.restarts !== undefined ? String(r.restarts) : ""), el("td", {}, r.since ? r.since.replace(/\.\d+Z$/, "Z") : ""), buttons(r));
      }
      body.append(tr);
    }
    rowsEl.replaceChildren(body);
  }

  async function refresh() {
    try {
      const resp = await fetch("/api/v1/apps", { cache: "no-store" });
      if (!resp.ok) throw new Error(resp.status + " " + resp.statusText);
      const data = await resp.json();
      await Promise.all(data.rows.filter((r) => r.job).map(async (r) => {
        // the build's output comes only with the token; phase and error without
        const headers = token() ? { Authorization: "Bearer " + token() } : {};
        const jr = await fetch("/api/v1/jobs/" + encodeURIComponent(r.job), { cache: "no-store", headers });
        if (jr.ok) jobs[r.job] = await jr.json();
      }));
      render(data);
    } catch (e) {
      fleetEl.textContent = "agent unreachable: " + e.message;
      fleetEl.className = "fleet state-error";
    }
  }

  async function showLogs(binary) {
    const text = await call("GET", "/api/v1/binaries/" + encodeURIComponent(binary) + "/logs?tail=200");
    if (text === null) return;
    document.getElementById("log-title").textContent = "log of " + binary;
    logEl.textContent = text;
    logPanel.hidden = false;
  }
  document.getElementById("log-close").addEventListener("click", () => { logPanel.hidden = true; });

  rowsEl.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (!b) return;
    const a = b.dataset.action;
    const app = encodeURIComponent(b.dataset.app || "");
    const bin = encodeURIComponent(b.dataset.binary || "");
    switch (a) {
      case "install": await call("POST", "/api/v1/apps/" + app + "/install"); break;
      case "uninstall": await call("DELETE", "/api/v1/apps/" + app); break;
      case "logs": await showLogs(b.dataset.binary); return;
      default: await call("POST", "/api/v1/binaries/" + bin + "/" + a);
    }
    refresh();
  });

  refresh();
  setInterval(refresh, 1000);
})();
