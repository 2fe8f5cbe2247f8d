#!/usr/bin/env node
// Stand-in for `react-scripts build`: bakes REACT_APP_HOST_URL (from envs/<BUILD_FOR>,
// loaded by env-cmd) into build/index.html and a content-hashed build/static/js/main.<hash>.js.
// Like a real React build, the URL is fixed at build time: one image per customer.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

function fail(message) {
  console.error(`build.js: ${message}`);
  process.exit(1);
}

const hostUrl = (process.env.REACT_APP_HOST_URL || "").trim();
if (!hostUrl) fail("REACT_APP_HOST_URL is not set (run through `env-cmd -f envs/<BUILD_FOR>`)");
let parsed;
try {
  parsed = new URL(hostUrl);
} catch {
  fail(`REACT_APP_HOST_URL is not a URL: ${JSON.stringify(hostUrl)}`);
}
if (!["http:", "https:"].includes(parsed.protocol) || parsed.pathname !== "/" || parsed.search || parsed.hash) {
  fail(`REACT_APP_HOST_URL must be a bare http(s) origin like http://app.client-a.feng.local, got ${JSON.stringify(hostUrl)}`);
}
const origin = parsed.origin; // no trailing slash
const apiUrl = `${origin}/api/v1/`;

const outDir = path.resolve(__dirname, process.env.BUILD_DIR || "build");
const jsDir = path.join(outDir, "static", "js");
// Replace only what this script writes (BUILD_DIR may point anywhere).
fs.rmSync(path.join(outDir, "static"), { recursive: true, force: true });
fs.mkdirSync(jsDir, { recursive: true });

const escapeHtml = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// The page: the tenant's name from the API, then one task sent and its result read back. Every
// request has a deadline and every failure ends in a visible error state (body[data-state=error])
// naming the URL it tried, so a wrong baked-in URL or a dead API never leaves a blank page.
const js = `"use strict";
(function () {
  var API = ${JSON.stringify(apiUrl)};
  var HOST_URL = ${JSON.stringify(origin)};
  var REQUEST_TIMEOUT_MS = 5000;
  var TASK_POLLS = 40;
  var TASK_POLL_INTERVAL_MS = 250;
  var $ = function (id) { return document.getElementById(id); };
  var setState = function (state, text) {
    document.body.setAttribute("data-state", state);
    $("api-status").textContent = text;
  };

  function call(method, url) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    return fetch(url, { method: method, headers: { Accept: "application/json" }, signal: controller.signal })
      .catch(function (e) {
        throw new Error(method + " " + url + " failed (" + (e.name === "AbortError" ? "no answer within " + REQUEST_TIMEOUT_MS + " ms" : e.message) + ")");
      })
      .then(function (r) {
        clearTimeout(timer);
        var type = r.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) throw new Error(method + " " + url + " answered HTTP " + r.status + " " + (type || "without a type") + ", not the API's JSON");
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(method + " " + url + " answered HTTP " + r.status + ": " + JSON.stringify(body));
          return body;
        });
      });
  }

  function waitForTask(id, polls) {
    return call("GET", API + "tasks/" + id + "/").then(function (status) {
      $("task").textContent = id + " " + status.state;
      if (status.state === "SUCCESS") return status.result;
      if (status.state === "FAILURE") throw new Error("task " + id + " failed: " + status.error);
      if (polls <= 1) throw new Error("task " + id + " still " + status.state + " after " + TASK_POLLS + " polls");
      return new Promise(function (resolve) { setTimeout(resolve, TASK_POLL_INTERVAL_MS); })
        .then(function () { return waitForTask(id, polls - 1); });
    });
  }

  $("page-origin").textContent = window.location.origin;
  setState("loading", "Contacting the API at " + API + "…");
  call("GET", API)
    .then(function (index) {
      $("tenant").textContent = index.tenant;
      return call("POST", API + "tasks/summary/");
    })
    .then(function (sent) {
      $("task").textContent = sent.id + " sent";
      return waitForTask(sent.id, TASK_POLLS);
    })
    .then(function (result) {
      $("task-result").textContent = "run by " + result.tenant + " on queue " + result.queue;
      setState("ready", "API answers at " + API);
    })
    .catch(function (e) {
      $("error").hidden = false;
      $("error").textContent = "The API cannot be used: " + e.message + ". Is the API down, or was this page built for the wrong API URL (REACT_APP_HOST_URL=" + HOST_URL + ")?";
      setState("error", "API unreachable at " + API);
    });
})();
`;
const hash = crypto.createHash("sha256").update(js).digest("hex").slice(0, 8);
const jsName = `main.${hash}.js`;
fs.writeFileSync(path.join(jsDir, jsName), js);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="stock-api-url" content="${escapeHtml(apiUrl)}">
<title>Stock</title>
</head>
<body data-state="loading">
<h1>Stock</h1>
<p>Served from <code id="page-origin"></code>; built with REACT_APP_HOST_URL=<code id="host-url">${escapeHtml(origin)}</code>, so the API is at <code id="api-url">${escapeHtml(apiUrl)}</code>.</p>
<dl>
<dt>Tenant</dt><dd id="tenant">…</dd>
<dt>Task</dt><dd id="task">…</dd>
<dt>Result</dt><dd id="task-result">…</dd>
</dl>
<p id="api-status" role="status">Contacting the API…</p>
<p id="error" role="alert" hidden></p>
<script src="/static/js/${jsName}"></script>
</body>
</html>
`;
fs.writeFileSync(path.join(outDir, "index.html"), html);
console.log(`build.js: built ${path.relative(process.cwd(), outDir) || "."} for ${origin} (static/js/${jsName})`);
