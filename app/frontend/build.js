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

const js = `"use strict";
(function () {
  var API = ${JSON.stringify(apiUrl)};
  var out = document.getElementById("api-status");
  fetch(API, { headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (body) { out.textContent = "API answers: " + JSON.stringify(body); })
    .catch(function (e) { out.textContent = "API unreachable: " + e; });
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
<body>
<h1>Stock</h1>
<p>Built for <code id="host-url">${escapeHtml(origin)}</code>; API at <code id="api-url">${escapeHtml(apiUrl)}</code>.</p>
<p id="api-status">Contacting the API…</p>
<script src="/static/js/${jsName}"></script>
</body>
</html>
`;
fs.writeFileSync(path.join(outDir, "index.html"), html);
console.log(`build.js: built ${path.relative(process.cwd(), outDir) || "."} for ${origin} (static/js/${jsName})`);
