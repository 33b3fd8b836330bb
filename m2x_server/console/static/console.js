// The M2X console: devices and their data, through the public API (/v2) only.
//
// The API key lives in sessionStorage (this tab, until it closes) and goes nowhere but the
// X-M2X-KEY header of fetch() calls: never in a URL, the page or a log. Every value from the
// API reaches the page as text (textContent, never innerHTML). Views refresh every POLL_MS
// while the tab is visible.

import { lineChart } from "./chart.js";

const KEY_ITEM = "m2x-console-key";
const POLL_MS = 2000;
const DEVICES_PER_PAGE = 20;
const MAX_POINTS = 300; // a chart draws at most this many raw values, else server-side averages
// Sampling buckets, in seconds: the first at least range / MAX_POINTS long (a day: 5 min).
const BUCKETS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const VALUES_PAGE = 1000; // the API's largest page of stream values
const COMMANDS_SHOWN = 50;
const JOB_WAIT_MS = 30000;
const HOUR = 3600 * 1000;
const RANGES = {
  hour: { label: "Last hour", ms: HOUR },
  day: { label: "Last day", ms: 24 * HOUR },
  week: { label: "Last week", ms: 7 * 24 * HOUR },
  custom: { label: "From – to" },
};
const SORTS = {
  name: { label: "Name", sort: "name", dir: "asc" },
  activity: { label: "Last activity", sort: "last_activity", dir: "desc" },
  created: { label: "Newest", sort: "created", dir: "desc" },
};

const main = document.getElementById("main");
const notice = document.getElementById("notice");
const signOutButton = document.getElementById("sign-out");
let signInMessage = "";
let clockOffset = 0; // the server's clock minus this browser's, in ms (from /v2/time)

// --- The page, built from text only -----------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "value") node.value = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

function setText(node, text) {
  text = String(text);
  if (node.textContent !== text) node.textContent = text;
}

// Table rows kept by key: a row is made once and updated in place, so its links and buttons
// stay the same elements and a click is never lost to a refresh; rows of gone keys go.
function syncRows(tbody, items, keyOf, make, update) {
  if (!tbody.keyedRows) tbody.keyedRows = new Map();
  const rows = tbody.keyedRows;
  const keep = new Set();
  items.forEach((item, index) => {
    const key = keyOf(item);
    keep.add(key);
    let row = rows.get(key);
    if (!row) {
      row = make(item);
      rows.set(key, row);
    }
    update(row, item);
    if (tbody.children[index] !== row) tbody.insertBefore(row, tbody.children[index] || null);
  });
  for (const [key, row] of rows) {
    if (!keep.has(key)) {
      row.remove();
      rows.delete(key);
    }
  }
}

function showNotice(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

// --- Time and numbers -------------------------------------------------------------------

function serverNow() {
  return Date.now() + clockOffset;
}

function iso(ms) {
  return new Date(ms).toISOString();
}

function pad2(n) {
  return String(n).padStart(2, "0");
}

function localTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:` +
    `${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

function ago(ms) {
  const s = Math.max(0, Math.round((serverNow() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// <time> showing local time (and how long ago); the API's UTC timestamp as its tooltip.
// short: only the time of day for today's stamps.
function timeCell(stamp, withAgo = true, short = false) {
  if (!stamp) return el("span", { class: "muted" }, "never");
  const ms = Date.parse(stamp);
  if (Number.isNaN(ms)) return String(stamp);
  let text = localTime(ms);
  if (short && text.slice(0, 10) === localTime(serverNow()).slice(0, 10)) text = text.slice(11);
  return el("time", { datetime: stamp, title: stamp }, text, withAgo ? el("span", { class: "ago" }, ` (${ago(ms)})`) : null);
}

function formatValue(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

function withUnit(value, unit) {
  const symbol = unit && (unit.symbol || unit.label);
  return value === null || value === undefined || !symbol ? formatValue(value) : `${formatValue(value)} ${symbol}`;
}

// --- The API ----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

class SignedOut extends Error {}

function queryString(query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? "?" + text : "";
}

function enc(segment) {
  return encodeURIComponent(segment);
}

async function rawRequest(method, path, key, { query, body } = {}) {
  const headers = { Accept: "application/json" };
  if (key) headers["X-M2X-KEY"] = key;
  const init = { method, headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/v2" + path + queryString(query), init);
  } catch (error) {
    throw new ApiError(0, "The server cannot be reached: " + error.message);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const message = (data && data.message) || response.statusText || "HTTP " + response.status;
    throw new ApiError(response.status, message, data);
  }
  return { status: response.status, data, headers: response.headers };
}

// A request with the signed-in key; a 401 or 403 ends the session with the server's reason.
async function api(method, path, options) {
  const key = sessionStorage.getItem(KEY_ITEM);
  if (!key) {
    signOut("Sign in to go on.");
    throw new SignedOut();
  }
  try {
    return await rawRequest(method, path, key, options);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      signOut(refusal(error));
      throw new SignedOut();
    }
    throw error;
  }
}

function refusal(error) {
  if (error.status === 401) return `The server did not accept this API key (${error.message}). Check it and sign in again.`;
  return `This API key may not do that (${error.message}). The console needs a master key: sign in with one.`;
}

function errorText(error) {
  if (error instanceof ApiError) {
    const details = error.body && error.body.errors ? " " + JSON.stringify(error.body.errors) : "";
    return (error.status ? `${error.status}: ` : "") + error.message + details;
  }
  return error && error.message ? error.message : String(error);
}

function report(error) {
  if (!(error instanceof SignedOut)) showNotice("Could not load: " + errorText(error));
}

async function syncClock() {
  const before = Date.now();
  const { data } = await api("GET", "/time");
  clockOffset = data.millis - (before + Date.now()) / 2;
}

// Downloads text as a file (a blob: URL, so no key or token ends up in the address bar).
function download(text, filename) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function fileName(...parts) {
  return parts.map((part) => String(part).replace(/[^A-Za-z0-9._-]+/g, "_")).join("-") + ".csv";
}

function csvField(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// --- Polling: one view at a time, only while the tab is visible --------------------------

const poll = { fn: null, timer: 0, running: false };
let currentView = null;

function newView() {
  if (currentView) currentView.alive = false;
  stopPolling();
  showNotice("");
  currentView = { alive: true };
  return currentView;
}

function startPolling(view, fn) {
  if (!view.alive) return;
  poll.fn = fn;
  schedulePoll();
}

function stopPolling() {
  poll.fn = null;
  clearTimeout(poll.timer);
  poll.timer = 0;
}

function schedulePoll() {
  clearTimeout(poll.timer);
  poll.timer = 0;
  if (poll.fn && !poll.running && document.visibilityState === "visible") poll.timer = setTimeout(runPoll, POLL_MS);
}

async function runPoll() {
  poll.timer = 0;
  const fn = poll.fn;
  if (!fn) return;
  poll.running = true;
  try {
    await fn();
    showNotice("");
  } catch (error) {
    if (!(error instanceof SignedOut)) showNotice("Could not refresh: " + errorText(error));
  } finally {
    poll.running = false;
  }
  schedulePoll();
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") {
    clearTimeout(poll.timer);
    poll.timer = 0;
  } else if (poll.fn && !poll.running) {
    clearTimeout(poll.timer);
    runPoll(); // back in view: catch up at once
  }
});

// --- Routing: #/devices, #/devices?q=...&page=2, #/devices/{id} -------------------------

function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/devices";
  const [path, query = ""] = hash.split("?");
  return { path, params: new URLSearchParams(query) };
}

function route() {
  const key = sessionStorage.getItem(KEY_ITEM);
  signOutButton.hidden = !key;
  if (!key) return showSignIn();
  const { path, params } = parseHash();
  const match = path.match(/^\/devices\/([^/]+)$/);
  if (match) return showDevice(decodeURIComponent(match[1]));
  return showDevices(params);
}

function signOut(message) {
  sessionStorage.removeItem(KEY_ITEM);
  signInMessage = message || "";
  route();
}

window.addEventListener("hashchange", route);
signOutButton.addEventListener("click", () => signOut("Signed out. The key is forgotten by this tab."));
document.getElementById("server-name").textContent = location.host;

// --- Sign in ----------------------------------------------------------------------------

function showSignIn() {
  const view = newView();
  document.title = "Sign in · M2X console";
  // No name attribute: even a form sent without this script puts no key in the URL.
  const input = el("input", { type: "password", id: "api-key", autocomplete: "off", spellcheck: "false",
    required: true, "aria-describedby": "sign-in-help" });
  const message = el("p", { id: "sign-in-message", class: "message error", role: "alert" }, signInMessage);
  message.hidden = !signInMessage;
  const button = el("button", { type: "submit", id: "sign-in-button" }, "Sign in");
  const form = el("form", { id: "sign-in", class: "card narrow", method: "post", action: "#", onsubmit: submit },
    el("h1", {}, "Sign in"),
    el("label", { for: "api-key" }, "API key"),
    input,
    el("p", { id: "sign-in-help", class: "muted" },
      "A master key of this server (m2x_server prints it as “master key: …” when it makes its database). It is kept in this browser tab only, until you close it or sign out, " +
      "and is sent only in the X-M2X-KEY header of the console's requests."),
    message,
    button);
  replace(main, form);
  input.focus();

  async function submit(event) {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    message.hidden = true;
    try {
      await rawRequest("GET", "/devices", key, { query: { limit: 1 } });
      if (!view.alive) return;
      sessionStorage.setItem(KEY_ITEM, key);
      signInMessage = "";
      route();
    } catch (error) {
      if (!view.alive) return;
      let text = "Sign-in failed: " + errorText(error);
      if (error.status === 401) text = `That key was not accepted (${error.message}). Check it and try again.`;
      if (error.status === 403) text = `That key cannot list devices (${error.message}). The console needs a master key.`;
      message.textContent = text;
      message.hidden = false;
      button.disabled = false;
      input.select();
    }
  }
}

// --- Devices ----------------------------------------------------------------------------

function showDevices(params) {
  const view = newView();
  document.title = "Devices · M2X console";
  const state = {
    q: params.get("q") || "",
    page: Math.max(1, parseInt(params.get("page"), 10) || 1),
    sort: SORTS[params.get("sort")] ? params.get("sort") : "name",
  };
  const search = el("input", { type: "search", id: "device-search", value: state.q, "aria-label": "Search devices",
    placeholder: "Name, description or serial" });
  const sort = el("select", { id: "device-sort", "aria-label": "Sort devices" },
    Object.entries(SORTS).map(([value, s]) => el("option", { value, selected: value === state.sort }, s.label)));
  const go = (changes) => {
    const next = { ...state, ...changes };
    location.hash = "#/devices" + queryString({ q: next.q, page: next.page > 1 ? next.page : "", sort: next.sort });
  };
  sort.addEventListener("change", () => go({ sort: sort.value, page: 1 }));
  const form = el("form", { class: "search", role: "search",
    onsubmit: (event) => { event.preventDefault(); go({ q: search.value.trim(), page: 1 }); } },
    search, el("button", { type: "submit" }, "Search"), el("label", { for: "device-sort" }, "Sort by"), sort);
  const rows = el("tbody");
  const table = el("table", { id: "devices" },
    el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Status"), el("th", {}, "Last activity"),
      el("th", { class: "num" }, "Streams"))),
    rows);
  const summary = el("p", { class: "muted", id: "devices-summary" }, "Loading…");
  const makeRow = (device) => {
    const cells = { link: el("a", { class: "device-link" }), status: el("span"), when: el("td"), count: el("td", { class: "num" }) };
    const row = el("tr", { "data-device-id": device.id }, el("td", {}, cells.link), el("td", {}, cells.status), cells.when, cells.count);
    row.cells_ = cells;
    return row;
  };
  const updateRow = (row, device) => {
    const { link, status, when, count } = row.cells_;
    link.setAttribute("href", "#/devices/" + enc(device.id));
    setText(link, device.name || device.id);
    status.className = "pill status-" + device.status;
    setText(status, device.status);
    replace(when, timeCell(device.last_activity));
    setText(count, device.streams ? device.streams.count : 0);
  };
  const previous = el("button", { type: "button", disabled: true, onclick: () => go({ page: state.page - 1 }) }, "‹ Previous");
  const next = el("button", { type: "button", disabled: true, onclick: () => go({ page: state.page + 1 }) }, "Next ›");
  const pageOf = el("span");
  const pager = el("nav", { class: "pager", "aria-label": "Pages" }, previous, pageOf, next);
  replace(main, el("section", { class: "card" }, el("h1", {}, "Devices"), form, summary, table, pager));

  async function refresh() {
    const { sort: by, dir } = SORTS[state.sort];
    const { data } = await api("GET", "/devices",
      { query: { q: state.q, page: state.page, limit: DEVICES_PER_PAGE, sort: by, dir } });
    if (!view.alive) return;
    syncRows(rows, data.devices, (device) => device.id, makeRow, updateRow);
    const pages = Math.max(1, data.pages || 1);
    if (!data.devices.length) {
      replace(summary, state.q ? `No device matches “${state.q}”.` :
        "No devices yet: they appear here once created through the API (POST /v2/devices).");
    } else {
      replace(summary, `${data.total} device${data.total === 1 ? "" : "s"}` + (state.q ? ` matching “${state.q}”` : ""));
    }
    previous.disabled = state.page <= 1;
    next.disabled = state.page >= pages;
    setText(pageOf, `Page ${Math.min(state.page, pages)} of ${pages}`);
  }

  refresh().catch(report).finally(() => startPolling(view, refresh));
}

// --- A device ---------------------------------------------------------------------------

async function showDevice(id) {
  const view = newView();
  document.title = "Device · M2X console";
  replace(main, el("p", { class: "card muted" }, "Loading…"));
  const base = "/devices/" + enc(id);
  let device;
  try {
    [device] = await Promise.all([api("GET", base).then((r) => r.data), syncClock()]);
  } catch (error) {
    if (error instanceof SignedOut || !view.alive) return;
    replace(main, el("section", { class: "card" }, el("p", { class: "message error", role: "alert" },
      error.status === 404 ? "There is no such device." : "Could not load the device: " + errorText(error)),
      el("a", { href: "#/devices" }, "‹ All devices")));
    return;
  }
  if (!view.alive) return;
  document.title = `${device.name} · M2X console`;

  // charts: stream name -> its chart card; seen: stream name -> the newest value's stamp drawn
  const state = { range: { kind: "hour" }, charts: new Map(), seen: new Map() };

  // Range selection and the device's export
  const rangeButtons = Object.entries(RANGES).map(([kind, r]) =>
    el("button", { type: "button", "data-range": kind, "aria-pressed": String(kind === "hour"),
      onclick: () => pickRange(kind) }, r.label));
  const fromInput = el("input", { type: "datetime-local", id: "range-from", "aria-label": "From", step: 1 });
  const toInput = el("input", { type: "datetime-local", id: "range-to", "aria-label": "To", step: 1 });
  for (const input of [fromInput, toInput]) input.addEventListener("input", () => toInput.setCustomValidity(""));
  const custom = el("form", { class: "custom-range", hidden: true, onsubmit: applyCustom },
    fromInput, el("span", {}, "to"), toInput, el("button", { type: "submit" }, "Show"));
  const exportMessage = el("span", { id: "export-message", class: "muted", role: "status" });
  const exportButton = el("button", { type: "button", id: "export-device", onclick: exportDevice },
    "Export all streams (CSV)");
  const toolbar = el("div", { class: "toolbar" },
    el("div", { class: "segmented", role: "group", "aria-label": "Chart range" }, rangeButtons), custom,
    el("span", { class: "spacer" }), exportButton, exportMessage);

  // Streams: charts on the left, the latest values on the right
  const charts = el("div", { id: "charts" });
  const streamRows = el("tbody");
  const streamsTable = el("table", { id: "streams" },
    el("thead", {}, el("tr", {}, el("th", {}, "Stream"), el("th", { class: "num" }, "Latest"),
      el("th", {}, "At"), el("th", {}, ""))),
    streamRows);
  const noStreams = el("p", { class: "muted", hidden: true }, "No streams yet.");

  // Commands
  const commandName = el("input", { id: "command-name", required: true, maxlength: 200, placeholder: "SAY_HELLO" });
  const commandData = el("textarea", { id: "command-data", rows: 2, placeholder: '{"level": 3}' });
  const commandMessage = el("p", { id: "command-message", class: "message", role: "status" });
  const commandRows = el("tbody");
  const commandForm = el("form", { id: "command-form", onsubmit: sendCommand },
    el("label", { for: "command-name" }, "Command"), commandName,
    el("label", { for: "command-data" }, "Data (a JSON object, optional)"), commandData,
    el("button", { type: "submit", id: "send-command" }, "Send to this device"), commandMessage);
  const commandsTable = el("table", { id: "commands" },
    el("thead", {}, el("tr", {}, el("th", {}, "Command"), el("th", {}, "Sent"), el("th", {}, "Status"))),
    commandRows);
  const noCommands = el("p", { class: "muted", hidden: true }, "No commands sent to this device yet.");

  // Location and the request log
  const locationBox = el("div", { id: "location" }, el("p", { class: "muted" }, "Loading…"));
  const logRows = el("tbody");
  const log = el("details", { id: "log", class: "card", ontoggle: () => log.open && loadLog().catch(report) },
    el("summary", {}, "Request log"),
    el("p", { class: "muted" }, "The device's last 100 requests, newest first, as the server logs them " +
      "(the console's own requests about this device are among them). ",
      el("button", { type: "button", class: "link", onclick: () => loadLog().catch(report) }, "Refresh")),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Time"), el("th", {}, "Request"),
      el("th", { class: "num" }, "Status"))), logRows));

  const summary = el("dl", { class: "facts" },
    fact("Status", el("span", { class: "pill status-" + device.status }, device.status)),
    fact("Last activity", timeCell(device.last_activity)),
    device.serial ? fact("Serial", device.serial) : null,
    device.tags && device.tags.length ? fact("Tags", device.tags.join(", ")) : null,
    fact("Id", el("code", {}, device.id)));
  replace(main,
    el("nav", { class: "crumbs" }, el("a", { href: "#/devices" }, "Devices"), " › ", device.name),
    el("section", { class: "device-head" }, el("h1", { id: "device-name" }, device.name),
      device.description ? el("p", { class: "muted" }, device.description) : null, summary),
    toolbar,
    el("div", { class: "device-grid" },
      el("div", { class: "main-column" }, charts),
      el("div", { class: "side-column" },
        el("section", { class: "card" }, el("h2", {}, "Streams"), streamsTable, noStreams),
        el("section", { class: "card", id: "commands-card" }, el("h2", {}, "Commands"), commandForm, commandsTable, noCommands),
        el("section", { class: "card" }, el("h2", {}, "Location"), locationBox))),
    log);

  function fact(name, value) {
    return [el("dt", {}, name), el("dd", {}, value)];
  }

  function rangeBounds() {
    const range = state.range;
    if (range.kind === "custom") return { from: range.from, to: range.to, query: { start: iso(range.from), end: iso(range.to) } };
    const to = serverNow();
    const from = to - RANGES[range.kind].ms;
    return { from, to, query: { start: iso(from) } }; // no end: up to the server's now
  }

  function rangeIsLive() {
    return state.range.kind !== "custom" || state.range.to >= serverNow();
  }

  function pickRange(kind) {
    for (const button of rangeButtons) button.setAttribute("aria-pressed", String(button.dataset.range === kind));
    custom.hidden = kind !== "custom";
    if (kind === "custom") {
      if (!fromInput.value) {
        const now = serverNow();
        fromInput.value = inputValue(now - 24 * HOUR);
        toInput.value = inputValue(now);
      }
      fromInput.focus();
      return;
    }
    state.range = { kind };
    reloadCharts().catch(report);
  }

  function inputValue(ms) {
    return localTime(ms).replace(" ", "T"); // what a datetime-local input holds
  }

  function applyCustom(event) {
    event.preventDefault();
    const from = new Date(fromInput.value).getTime();
    const to = new Date(toInput.value).getTime();
    if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
      toInput.setCustomValidity("The end must come after the start.");
      toInput.reportValidity();
      return;
    }
    state.range = { kind: "custom", from, to };
    reloadCharts().catch(report);
  }

  // The points of one stream's chart: its raw values when the range holds at most
  // MAX_POINTS of them, else the server's averages over buckets of range / MAX_POINTS.
  async function series(stream) {
    const bounds = rangeBounds();
    bounds.label = RANGES[state.range.kind].label;
    const path = `${base}/streams/${enc(stream.name)}`;
    const raw = await api("GET", path + "/values", { query: { ...bounds.query, limit: MAX_POINTS + 1 } });
    if (raw.data.values.length <= MAX_POINTS) {
      const points = raw.data.values.map((v) => ({ t: Date.parse(v.timestamp), v: v.value, stamp: v.timestamp }));
      return { bounds, points, how: `${points.length} value${points.length === 1 ? "" : "s"}` };
    }
    const least = Math.max(1, Math.ceil((bounds.to - bounds.from) / 1000 / MAX_POINTS));
    const interval = BUCKETS.find((seconds) => seconds >= least) || least;
    const sampled = await api("GET", path + "/sampling",
      { query: { ...bounds.query, interval, type: "avg", limit: VALUES_PAGE } });
    const points = sampled.data.values.map((v) =>
      ({ t: Date.parse(v.timestamp) + interval * 500, v: v.value, stamp: v.timestamp, average: true }));
    return { bounds, points, how: `${points.length} averages of ${describeSeconds(interval)} (sampled on the server)` };
  }

  function describeSeconds(seconds) {
    if (seconds % 3600 === 0) return `${seconds / 3600} h`;
    if (seconds % 60 === 0) return `${seconds / 60} min`;
    return `${seconds} s`;
  }

  function chartCard(stream) {
    const card = el("article", { class: "card chart-card", "data-stream": stream.name },
      el("header", {},
        el("h2", {}, stream.display_name || stream.name),
        el("span", { class: "latest" }, el("strong", { class: "latest-value" }), " ", el("span", { class: "latest-at muted" }))),
      el("div", { class: "chart-box" }),
      el("p", { class: "chart-caption muted" }, "Loading…"));
    return { card, stream, loading: null, again: false };
  }

  async function drawChart(chart) {
    // One load at a time per chart; a change meanwhile asks for one more afterwards.
    if (chart.loading) {
      chart.again = true;
      return chart.loading;
    }
    chart.loading = (async () => {
      try {
        do {
          chart.again = false;
          const { bounds, points, how } = await series(chart.stream);
          if (!view.alive) return;
          const unit = chart.stream.unit;
          const svgNode = lineChart({
            points, from: bounds.from, to: bounds.to, title: chart.stream.name,
            format: (v) => withUnit(v, unit),
            describe: (p) => `${withUnit(p.v, unit)}${p.average ? " (average)" : ""} at ${localTime(p.t)}`,
          });
          replace(chart.card.querySelector(".chart-box"), svgNode);
          replace(chart.card.querySelector(".chart-caption"), `${bounds.label}: ${how}`);
        } while (chart.again && view.alive);
      } finally {
        chart.loading = null;
      }
    })();
    return chart.loading;
  }

  function reloadCharts() {
    return Promise.all([...state.charts.values()].map(drawChart));
  }

  async function refreshStreams() {
    const { data } = await api("GET", base + "/streams");
    if (!view.alive) return;
    syncRows(streamRows, data.streams, (stream) => stream.name, (stream) => {
      const cells = { name: el("td"), value: el("td", { class: "num latest-value" }), at: el("td") };
      const row = el("tr", { "data-stream": stream.name }, cells.name, cells.value, cells.at,
        el("td", {}, el("button", { type: "button", class: "link csv", title: "This stream's values in the range, as CSV",
          onclick: () => exportStream(row.stream_) }, "CSV")));
      row.cells_ = cells;
      return row;
    }, (row, stream) => {
      row.stream_ = stream;
      setText(row.cells_.name, (stream.display_name || stream.name) + (stream.type === "alphanumeric" ? " (text)" : ""));
      setText(row.cells_.value, withUnit(stream.value, stream.unit));
      replace(row.cells_.at, timeCell(stream.latest_value_at, true, true));
    });
    noStreams.hidden = data.streams.length > 0;
    // Charts for numeric streams, redrawn when a stream has a newer value
    const numeric = data.streams.filter((s) => s.type !== "alphanumeric");
    const names = new Set(numeric.map((s) => s.name));
    for (const [name, chart] of state.charts) {
      if (!names.has(name)) {
        chart.card.remove();
        state.charts.delete(name);
      }
    }
    for (const node of [...charts.children]) {
      if (!node.classList.contains("chart-card")) node.remove(); // the "no streams" note
    }
    const redraw = [];
    for (const stream of numeric) {
      let chart = state.charts.get(stream.name);
      if (!chart) {
        chart = chartCard(stream);
        state.charts.set(stream.name, chart);
        redraw.push(chart);
      } else if (state.seen.get(stream.name) !== stream.latest_value_at && rangeIsLive()) {
        redraw.push(chart);
      }
      chart.stream = stream;
      charts.append(chart.card); // keeps the streams' order
      state.seen.set(stream.name, stream.latest_value_at);
      replace(chart.card.querySelector(".latest-value"), withUnit(stream.value, stream.unit));
      replace(chart.card.querySelector(".latest-at"), stream.latest_value_at ? timeCell(stream.latest_value_at) : "no values yet");
    }
    if (!numeric.length) {
      replace(charts, el("section", { class: "card muted" }, "No numeric streams to chart yet."));
    }
    await Promise.all(redraw.map(drawChart));
  }

  async function refreshCommands() {
    const { data } = await api("GET", base + "/commands", { query: { dir: "desc", limit: COMMANDS_SHOWN } });
    if (!view.alive) return;
    noCommands.hidden = data.commands.length > 0;
    syncRows(commandRows, data.commands, (command) => command.id, (command) => {
      const cells = { name: el("code"), sent: el("td"), status: el("span") };
      const row = el("tr", { "data-command-id": command.id }, el("td", {}, cells.name), cells.sent, el("td", {}, cells.status));
      row.cells_ = cells;
      return row;
    }, (row, command) => {
      const { name, sent, status } = row.cells_;
      const finished = command.processed_at || command.rejected_at;
      setText(name, command.name);
      replace(sent, timeCell(command.sent_at, false, true));
      status.className = "pill command-status status-" + command.status;
      status.title = finished ? `${command.status} at ${finished}` :
        command.received_at ? `received at ${command.received_at}` : "not received yet";
      setText(status, command.status);
    });
  }

  async function sendCommand(event) {
    event.preventDefault();
    const name = commandName.value.trim();
    const body = { name, targets: { devices: [device.id] } };
    const text = commandData.value.trim();
    if (text) {
      let data;
      try {
        data = JSON.parse(text);
      } catch (error) {
        data = undefined;
      }
      if (!data || typeof data !== "object" || Array.isArray(data)) {
        commandMessage.className = "message error";
        commandMessage.textContent = 'Data must be a JSON object, such as {"level": 3}.';
        return;
      }
      body.data = data;
    }
    commandMessage.className = "message";
    commandMessage.textContent = "Sending…";
    try {
      await api("POST", "/commands", { body });
      if (!view.alive) return;
      commandMessage.textContent = `Sent “${name}” to this device: its status is in the list below.`;
      commandName.value = "";
      commandData.value = "";
      await refreshCommands();
    } catch (error) {
      if (error instanceof SignedOut || !view.alive) return;
      commandMessage.className = "message error";
      commandMessage.textContent = "Not sent: " + errorText(error);
    }
  }

  async function loadLocation() {
    const { status, data } = await api("GET", base + "/location");
    if (!view.alive) return;
    if (status === 204 || !data) {
      replace(locationBox, el("p", { class: "muted" }, "No location reported yet."));
      return;
    }
    const waypoints = data.waypoints || [];
    replace(locationBox,
      el("dl", { class: "facts" },
        data.name ? fact("Name", data.name) : null,
        fact("Latitude", formatValue(Number(data.latitude))),
        fact("Longitude", formatValue(Number(data.longitude))),
        data.elevation !== null && data.elevation !== undefined ? fact("Elevation", formatValue(Number(data.elevation))) : null,
        fact("At", timeCell(data.timestamp))),
      waypoints.length > 1 ? el("p", { class: "muted" }, `${waypoints.length} recent waypoints; the previous one: ` +
        `${formatValue(Number(waypoints[1].latitude))}, ${formatValue(Number(waypoints[1].longitude))} at ` +
        localTime(Date.parse(waypoints[1].timestamp))) : null);
  }

  async function loadLog() {
    const { data } = await api("GET", base + "/log");
    if (!view.alive) return;
    replace(logRows, data.requests.map((entry) => el("tr", {},
      el("td", {}, timeCell(entry.timestamp, false)),
      el("td", {}, el("code", {}, `${entry.http_method} ${entry.path}`)),
      el("td", { class: "num" }, entry.status))));
  }

  // A stream's values in the chosen range, every page of them, as CSV built here.
  async function exportStream(stream) {
    exportMessage.textContent = `Exporting ${stream.name}…`;
    try {
      const { query } = rangeBounds();
      let end = query.end || iso(serverNow() + 60000); // past the newest value, a clock's skew included
      const rows = [];
      for (;;) {
        const { data } = await api("GET", `${base}/streams/${enc(stream.name)}/values`,
          { query: { start: query.start, end, limit: VALUES_PAGE } });
        rows.push(...data.values);
        if (data.values.length < VALUES_PAGE) break;
        const oldest = Date.parse(data.values[data.values.length - 1].timestamp);
        if (oldest <= Date.parse(query.start)) break;
        end = iso(oldest - 1); // values are one per millisecond at most: the next page starts below
      }
      const lines = ["timestamp," + csvField(stream.name)].concat(rows.map((v) => `${v.timestamp},${csvField(v.value)}`));
      const name = fileName(device.name, stream.name);
      download(lines.join("\n") + "\n", name);
      if (view.alive) exportMessage.textContent = `Saved ${name}: ${rows.length} value${rows.length === 1 ? "" : "s"}.`;
    } catch (error) {
      if (!(error instanceof SignedOut) && view.alive) exportMessage.textContent = "Export failed: " + errorText(error);
    }
  }

  // Every stream's values in the range through the API's export job (values/export.csv).
  async function exportDevice() {
    exportMessage.textContent = "Exporting…";
    exportButton.disabled = true;
    try {
      const { query } = rangeBounds();
      const started = await api("GET", base + "/values/export.csv", { query });
      const jobId = (started.headers.get("Location") || "").split("/").pop();
      if (!jobId) throw new Error("the server named no export job");
      const deadline = Date.now() + JOB_WAIT_MS;
      let job;
      for (;;) {
        job = (await api("GET", "/jobs/" + enc(jobId))).data;
        if (job.state === "complete" || job.state === "failed" || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      if (job.state !== "complete") throw new Error(`the export job is ${job.state}`);
      // The result's link needs no key (its token is the secret): fetched from this server, keyless.
      const link = new URL(job.result.url, location.href);
      const response = await fetch(link.pathname, { cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
      if (!response.ok) throw new Error(`the export answered ${response.status}`);
      const text = await response.text();
      const name = fileName(device.name, "all-streams");
      download(text, name);
      const rows = Math.max(0, text.trim().split("\n").length - 1);
      if (view.alive) exportMessage.textContent = `Saved ${name}: ${rows} row${rows === 1 ? "" : "s"}.`;
    } catch (error) {
      if (!(error instanceof SignedOut) && view.alive) exportMessage.textContent = "Export failed: " + errorText(error);
    } finally {
      exportButton.disabled = false;
    }
  }

  try {
    await Promise.all([refreshStreams(), refreshCommands(), loadLocation()]);
  } catch (error) {
    report(error);
  }
  startPolling(view, () => Promise.all([refreshStreams(), refreshCommands()]));
}

route();
