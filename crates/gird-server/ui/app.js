// gird's web UI: sign in, search recordings, open one, play it, put it on legal hold.
// The ops user and users alike: the page asks GET /api/v2/me who is signed in and what
// they may do, shows a user only their contact center, and leaves out the actions their
// roles forbid (the server refuses them anyway; the page just does not offer them).
// Plain JavaScript, no dependencies; every text from the server goes in as text, never
// as markup.
//
// Times: the page never parses a time text a recorder sent. A text without offset is UTC
// to gird, local time to the browser's Date.parse; so the page shows the instants gird
// read (the view's startTimeMs, timeMs, occurredAtMs... fields), in the browser's time
// zone or, at the user's choice, in UTC.
"use strict";

const CALL_TYPES = ["Inbound", "Outbound", "Internal", "Consult", "Unknown"];
const PAGE_SIZE = 25;
const LAST_CONTACT_CENTER = "gird.contactCenter";
const SHOW_UTC = "gird.utc";
const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
const state = { csrf: null, me: null, contactCenters: null, utc: remembered(SHOW_UTC) === "1" };

// ---- helpers --------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "style") Object.assign(node.style, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(text, error) {
  const status = document.getElementById("status");
  status.textContent = text || "";
  status.classList.toggle("error", Boolean(error));
}

function show(title, ...content) {
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", { text: title, tabindex: "-1", id: "title" }), ...content);
  document.title = `${title} — gird`;
  document.getElementById("title").focus();
}

// localStorage may be off (private windows, policies): the page then just forgets.
function remembered(key) {
  try {
    return window.localStorage.getItem(key);
  } catch (_) {
    return null;
  }
}

function remember(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch (_) {
    // Not kept: the next visit starts from the default.
  }
}

class SignInNeeded extends Error {}

class ApiFailure extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  // X-Gird-UI on every request: a 401 then comes without WWW-Authenticate, so the
  // browser does not open its own password prompt.
  const headers = { Accept: "application/json", "X-Gird-UI": "1" };
  if (method !== "GET" && state.csrf) headers[state.csrf.header] = state.csrf.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const csrfHeader = response.headers.get("X-CSRF-HEADER");
  const csrfToken = response.headers.get("X-CSRF-TOKEN");
  if (csrfHeader && csrfToken) state.csrf = { header: csrfHeader, token: csrfToken };
  let json = null;
  try {
    json = await response.json();
  } catch (_) {
    json = null;
  }
  if (response.status === 401) throw new SignInNeeded("Please sign in.");
  if (!response.ok || !json || json.statusCode !== 0) {
    const message = (json && json.statusMessage) || `The server answered HTTP ${response.status}.`;
    throw new ApiFailure(message, response.status);
  }
  return json;
}

function ccPath(cc) {
  return `/api/v2/ops/contact-centers/${encodeURIComponent(cc)}`;
}

// ---- times ----------------------------------------------------------------------

function isInstant(ms) {
  return typeof ms === "number" && Number.isFinite(ms);
}

function zoneName() {
  return state.utc ? "UTC" : LOCAL_ZONE;
}

const formats = new Map();

function format(ms, timeOnly) {
  const key = `${state.utc}/${Boolean(timeOnly)}`;
  if (!formats.has(key)) {
    const options = timeOnly ? { timeStyle: "medium" } : { dateStyle: "medium", timeStyle: "medium" };
    if (state.utc) options.timeZone = "UTC";
    formats.set(key, new Intl.DateTimeFormat(undefined, options));
  }
  return formats.get(key).format(new Date(ms));
}

function utcText(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.000Z$/, "Z");
}

// A time gird derived (`ms`) next to the text it was read from (`text`, as sent).
function when(ms, text, timeOnly) {
  if (!isInstant(ms)) return h("span", { text: text || "—" });
  const sent = text ? ` · sent as ${text}` : "";
  return h("time", {
    datetime: new Date(ms).toISOString(),
    title: `UTC: ${utcText(ms)}${sent}`,
    text: format(ms, timeOnly),
  });
}

function duration(ms) {
  if (!isInstant(ms)) return "—";
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

function span(item) {
  return isInstant(item.startTimeMs) && isInstant(item.stopTimeMs) ? item.stopTimeMs - item.startTimeMs : null;
}

// The search's datetime-local inputs are in the zone the page shows.
function toInput(ms) {
  if (!isInstant(ms)) return "";
  const date = new Date(ms);
  const utc = state.utc;
  const parts = [
    utc ? date.getUTCFullYear() : date.getFullYear(),
    (utc ? date.getUTCMonth() : date.getMonth()) + 1,
    utc ? date.getUTCDate() : date.getDate(),
    utc ? date.getUTCHours() : date.getHours(),
    utc ? date.getUTCMinutes() : date.getMinutes(),
  ].map((n, i) => String(n).padStart(i === 0 ? 4 : 2, "0"));
  return `${parts[0]}-${parts[1]}-${parts[2]}T${parts[3]}:${parts[4]}`;
}

function fromInput(input) {
  if (!input.value) return "";
  // valueAsNumber reads the wall-clock value as if it were UTC.
  const wall = new Date(input.valueAsNumber);
  if (state.utc) return String(wall.getTime());
  const local = new Date(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(),
    wall.getUTCHours(), wall.getUTCMinutes());
  return String(local.getTime());
}

function instantParam(params, name) {
  const value = params.get(name);
  return value && /^\d+$/.test(value) ? Number(value) : null;
}

// "Times are in America/Los_Angeles", with a switch to UTC and back. At phone width the
// short form shows ("tap for UTC"): there is no hovering there.
function zoneNote(lead) {
  const toggle = h("button", {
    type: "button",
    class: "link zone-toggle",
    "aria-pressed": state.utc ? "true" : "false",
    onclick: () => {
      state.utc = !state.utc;
      remember(SHOW_UTC, state.utc ? "1" : "0");
      route().then(() => {
        const again = document.querySelector(".zone-toggle");
        if (again) again.focus();
      });
    },
  },
  h("span", { class: "wide", text: state.utc ? `show them in ${LOCAL_ZONE}` : "show them in UTC" }),
  h("span", { class: "narrow", text: state.utc ? "tap for local time" : "tap for UTC" }));
  const hover = state.utc ? "" : "; hover one for UTC";
  return [
    h("span", { class: "wide", text: `${lead ? lead + " " : ""}Times are in ${zoneName()}${hover}, or ` }),
    h("span", { class: "narrow", text: `${lead ? lead.replace(/\.$/, "") + " · " : "Times: "}${zoneName()} · ` }),
    toggle,
  ];
}

// ---- small pieces ---------------------------------------------------------------

function agents(recording) {
  const names = new Set();
  for (const media of recording.mediaFiles || []) {
    const name = media.parameters && media.parameters.username;
    if (name) names.add(name);
  }
  for (const event of recording.eventHistory || []) {
    const name = event.contact && event.contact.userName;
    if (name) names.add(name);
  }
  return [...names];
}

function go(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value) query.set(name, value);
  }
  const hash = `#${path}${query.toString() ? "?" + query : ""}`;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function field(label, input, hint) {
  const id = input.id;
  if (hint) input.setAttribute("aria-describedby", `${id}-hint`);
  return h("div", { class: "field" },
    h("label", { for: id, text: label }),
    input,
    hint ? h("span", { class: "hint", id: `${id}-hint`, text: hint }) : null);
}

function failure(message) {
  return h("p", { class: "failure", role: "alert", text: message });
}

function recordingLink(cc, id) {
  return `#/recording?${new URLSearchParams({ cc, id })}`;
}

// An in-page confirmation (a modal <dialog>): answers whether the user confirmed.
function confirmation(title, text, yes, danger) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const dialog = h("dialog", { id: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
      h("h2", { id: "confirm-title", text: title }),
      h("p", { id: "confirm-text", text }),
      h("div", { class: "actions" },
        h("button", { type: "button", id: "confirm-no", text: "Cancel", onclick: () => dialog.close("no") }),
        h("button", { type: "button", id: "confirm-yes", class: danger ? "danger" : "primary", text: yes, onclick: () => dialog.close("yes") })));
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === "yes");
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("#confirm-no").focus();
  });
}

// ---- sign in --------------------------------------------------------------------

function signIn(message) {
  document.getElementById("account").hidden = true;
  const user = h("input", { id: "user", name: "user", autocomplete: "username", required: true });
  const password = h("input", {
    id: "password", name: "password", type: "password", autocomplete: "current-password", required: true,
  });
  const form = h("form", { class: "panel signin", "aria-labelledby": "title" },
    field("User", user),
    field("Password", password),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", text: "Sign in" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("Signing in…");
    try {
      const response = await fetch("/ui/session", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Gird-UI": "1" },
        credentials: "same-origin",
        body: JSON.stringify({ user: user.value, password: password.value }),
      });
      if (!response.ok) throw new Error("Wrong user or password.");
      state.me = null;
      say("");
      route();
    } catch (error) {
      say(error.message, true);
      password.focus();
    }
  });
  show("Sign in", form);
  say(message || "", Boolean(message));
  (user.value ? password : user).focus();
}

async function signOut() {
  await fetch("/ui/session", { method: "DELETE", headers: { "X-Gird-UI": "1" }, credentials: "same-origin" });
  state.me = null;
  state.contactCenters = null;
  signIn("Signed out.");
}

// ---- search ---------------------------------------------------------------------

// Who is signed in (GET /api/v2/me): the ops user, or a user with their contact center,
// roles and what they may do ("may": search, play, applyNonDelete, removeNonDelete, delete).
async function me() {
  if (!state.me) state.me = (await api("GET", "/api/v2/me")).user;
  return state.me;
}

function isUser(who) {
  return Boolean(who && who.contactCenterId);
}

function may(who, operation) {
  return Boolean(who && who.may && who.may[operation]);
}

// The contact centers to choose from: all of them for the ops user, a user's own alone.
async function contactCenters() {
  const who = await me();
  if (isUser(who)) return [who.contactCenterId];
  if (!state.contactCenters) {
    const answer = await api("GET", "/api/v2/ops/contact-centers");
    state.contactCenters = (answer.uris || []).map((uri) => decodeURIComponent(uri.split("/").pop()));
  }
  return state.contactCenters;
}

// The contact center's recordingCount, next to its select, when the server tells it.
// data-for names the contact center the hint was last looked up for.
async function showCount(cc, target) {
  target.textContent = "";
  delete target.dataset.for;
  if (!cc || isUser(state.me)) return;
  let count = null;
  try {
    const answer = await api("GET", ccPath(cc));
    count = answer.contactCenter ? answer.contactCenter.recordingCount : null;
  } catch (_) {
    // The count is a nicety: the search works without it.
  }
  const select = document.getElementById("cc");
  if (!target.isConnected || !select || select.value !== cc) return;
  if (Number.isInteger(count) && count >= 0) target.textContent = `${count.toLocaleString()} recording${count === 1 ? "" : "s"}`;
  target.dataset.for = cc;
}

const FILTERS = {
  from: "startTime",
  to: "endTime",
  caller: "callerPhoneNumber",
  dialed: "dialedPhoneNumber",
  agent: "userName",
  callType: "callType",
  callUUID: "callUUID",
  region: "region",
  partition: "partition",
  cursor: "cursor",
};

const MORE = ["callUUID", "id", "region", "partition"];
const wide = window.matchMedia("(min-width: 40rem)");

async function searchView(params) {
  const ccs = await contactCenters();
  const last = remembered(LAST_CONTACT_CENTER);
  const cc = params.get("cc") || (ccs.includes(last) ? last : ccs[0]) || "";
  if (cc) remember(LAST_CONTACT_CENTER, cc);
  const text = (id, extra) => h("input", { id, name: id, value: params.get(id) || "", ...extra });
  const count = h("span", { class: "hint", id: "cc-count", "aria-live": "polite" });
  const inputs = {
    cc: h("select", { id: "cc", name: "cc", "aria-describedby": "cc-count" },
      ccs.map((id) => h("option", { value: id, selected: id === cc, text: id }))),
    from: h("input", { id: "from", type: "datetime-local", value: toInput(instantParam(params, "from")) }),
    to: h("input", { id: "to", type: "datetime-local", value: toInput(instantParam(params, "to")) }),
    caller: text("caller", { inputmode: "tel" }),
    dialed: text("dialed", { inputmode: "tel" }),
    agent: text("agent"),
    callType: h("select", { id: "callType", name: "callType" },
      h("option", { value: "", text: "Any" }),
      CALL_TYPES.map((type) => h("option", { value: type, selected: type === params.get("callType"), text: type }))),
    callUUID: text("callUUID"),
    id: text("id"),
    region: text("region"),
    partition: text("partition"),
  };
  inputs.cc.addEventListener("change", () => {
    remember(LAST_CONTACT_CENTER, inputs.cc.value);
    showCount(inputs.cc.value, count);
  });
  const form = h("form", { class: "panel", role: "search", "aria-label": "Find recordings" },
    h("div", { class: "fields" },
      h("div", { class: "field" },
        h("label", { for: "cc", text: "Contact center" }), inputs.cc, count),
      field(`From (${zoneName()})`, inputs.from),
      field(`To (${zoneName()})`, inputs.to),
      field("Caller number", inputs.caller, "* matches anything, e.g. *0000"),
      field("Dialed number", inputs.dialed, "* matches anything"),
      field("Agent", inputs.agent),
      field("Call type", inputs.callType)),
    // Folded at phone width unless one is set, so that the results are in reach.
    h("details", { class: "more", open: wide.matches || MORE.some((name) => params.get(name)) },
      h("summary", { text: "More filters: call UUID, recording id, region, partition" }),
      h("div", { class: "fields" },
        field("Call UUID", inputs.callUUID),
        field("Recording id", inputs.id, "exact; finds that recording alone, other filters aside"),
        field("Region", inputs.region, "exact"),
        field("Partition", inputs.partition, "exact"))),
    h("div", { class: "actions" },
      h("button", { class: "primary", type: "submit", text: "Search" }),
      h("button", { type: "reset", text: "Clear", onclick: () => setTimeout(() => go("/search", { cc: inputs.cc.value }), 0) })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = { cc: inputs.cc.value, from: fromInput(inputs.from), to: fromInput(inputs.to) };
    for (const name of ["caller", "dialed", "agent", "callType", ...MORE]) {
      next[name] = inputs[name].value.trim();
    }
    go("/search", next);
  });
  const results = h("section", { "aria-labelledby": "results-title" });
  show("Recordings", form, results);
  if (!cc) {
    results.append(h("p", { text: "There is no contact center yet." }));
    return;
  }
  showCount(cc, count);
  try {
    await searchResults(results, cc, params);
  } catch (error) {
    if (error instanceof SignInNeeded) throw error;
    say("");
    results.replaceChildren(h("h2", { id: "results-title", text: "Results" }), failure(error.message));
  }
}

// A recording id given: that recording alone (GET /api/v2/recordings/{id}), or none.
async function byId(cc, id) {
  try {
    const query = new URLSearchParams({ contactCenterId: cc });
    const answer = await api("GET", `/api/v2/recordings/${encodeURIComponent(id)}?${query}`);
    return { recordings: [answer.recording] };
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 404) return { recordings: [] };
    throw error;
  }
}

function resultRow(cc, recording) {
  const link = h("a", {
    href: recordingLink(cc, recording.id),
    "aria-label": `Open recording ${recording.id}`,
  }, when(recording.startTimeMs, recording.startTime));
  return h("tr", {},
    h("td", { class: "start", "data-label": "Start" }, link),
    h("td", { class: "num", "data-label": "Duration", text: duration(span(recording)) }),
    h("td", { "data-label": "Caller", text: recording.callerPhoneNumber || "—" }),
    h("td", { "data-label": "Dialed", text: recording.dialedPhoneNumber || "—" }),
    h("td", { "data-label": "Agent", text: agents(recording).join(", ") || "—" }),
    h("td", { "data-label": "Call type", text: recording.callType || "—" }),
    h("td", { class: "id", "data-label": "Id", text: recording.id }),
    h("td", { class: "num", "data-label": "Segments", text: String((recording.mediaFiles || []).length) }));
}

async function searchResults(results, cc, params) {
  say("Searching…");
  const id = params.get("id");
  let answer;
  if (id) {
    answer = await byId(cc, id);
  } else {
    const query = new URLSearchParams({ contactCenterId: cc, limit: String(PAGE_SIZE) });
    for (const [name, parameter] of Object.entries(FILTERS)) {
      if (params.get(name)) query.set(parameter, params.get(name));
    }
    answer = await api("GET", `/api/v2/recordings?${query}`);
  }
  const recordings = answer.recordings || [];
  say(`${recordings.length} recording${recordings.length === 1 ? "" : "s"} on this page.`);
  const cursorOf = (link) => (link ? new URL(link, location.origin).searchParams.get("cursor") : null);
  const page = (cursor) => () => {
    const next = Object.fromEntries(params.entries());
    next.cc = cc;
    next.cursor = cursor;
    go("/search", next);
  };
  const newer = cursorOf(answer.previous);
  const older = cursorOf(answer.next);
  const lead = id ? "The recording with this id." : "Newest first.";
  results.append(
    h("h2", { id: "results-title", text: "Results" }),
    recordings.length === 0
      ? h("p", { text: id ? `No recording has the id ${id} in ${cc}.` : "No recording matches." })
      : h("table", { class: "results" },
        h("caption", {}, zoneNote(lead)),
        h("thead", {}, h("tr", {},
          ["Start", "Duration", "Caller", "Dialed", "Agent", "Call type", "Id", "Segments"]
            .map((name) => h("th", { scope: "col", text: name })))),
        h("tbody", {}, recordings.map((recording) => resultRow(cc, recording)))),
    id ? null : h("nav", { class: "actions", "aria-label": "Pages" },
      h("button", { type: "button", disabled: !newer, onclick: newer ? page(newer) : null, text: "← Newer" }),
      h("button", { type: "button", disabled: !older, onclick: older ? page(older) : null, text: "Older →" })));
}

// ---- one recording --------------------------------------------------------------

// Masked spans [from, to] of a media file, in time order, within the file.
function masksOf(media) {
  const spans = [];
  let paused = null;
  const masks = (media.masks || []).filter((mask) => isInstant(mask.timeMs));
  masks.sort((a, b) => a.timeMs - b.timeMs);
  for (const mask of masks) {
    if (mask.type === "paused" && paused === null) paused = mask.timeMs;
    if (mask.type === "resume" && paused !== null) {
      spans.push([paused, mask.timeMs]);
      paused = null;
    }
  }
  if (paused !== null && isInstant(media.stopTimeMs)) spans.push([paused, media.stopTimeMs]);
  const from = media.startTimeMs;
  const to = media.stopTimeMs;
  return spans
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)])
    .filter(([a, b]) => b > a);
}

function placed(media) {
  return isInstant(media.startTimeMs) && isInstant(media.stopTimeMs);
}

function eventsOf(recording) {
  const events = [...(recording.eventHistory || [])];
  // Stable: events without an instant keep their place after the others.
  return events
    .map((event, index) => [event, index])
    .sort(([a, i], [b, j]) => {
      const x = isInstant(a.occurredAtMs) ? a.occurredAtMs : Infinity;
      const y = isInstant(b.occurredAtMs) ? b.occurredAtMs : Infinity;
      return x === y ? i - j : x - y;
    })
    .map(([event]) => event);
}

function timeline(recording, events) {
  const media = (recording.mediaFiles || []).map((m, index) => [m, index]).filter(([m]) => placed(m));
  const timed = events.filter((e) => isInstant(e.occurredAtMs));
  const instants = [
    ...media.flatMap(([m]) => [m.startTimeMs, m.stopTimeMs]),
    ...timed.map((e) => e.occurredAtMs),
  ];
  if (instants.length === 0) return h("p", { text: "No times to show." });
  // reduce, not Math.min(...): a recording may have tens of thousands of instants.
  const start = instants.reduce((a, b) => Math.min(a, b));
  const end = instants.reduce((a, b) => Math.max(a, b));
  const width = Math.max(1, end - start);
  const at = (ms) => `${(((ms - start) / width) * 100).toFixed(3)}%`;
  const length = (from, to) => `${(((to - from) / width) * 100).toFixed(3)}%`;
  const segments = media.map(([m, index]) => {
    const from = m.startTimeMs;
    const to = m.stopTimeMs;
    const bar = h("div", {
      class: "segment",
      style: { left: at(from), width: length(from, to) },
      title: `Segment ${index + 1}: ${format(from, true)}–${format(to, true)}`,
      text: String(index + 1),
    });
    for (const [maskFrom, maskTo] of masksOf(m)) {
      const left = ((maskFrom - from) / Math.max(1, to - from)) * 100;
      const size = ((maskTo - maskFrom) / Math.max(1, to - from)) * 100;
      bar.append(h("span", {
        class: "mask",
        style: { left: `${left.toFixed(3)}%`, width: `${size.toFixed(3)}%` },
        title: `Masked (paused) ${format(maskFrom, true)}–${format(maskTo, true)}`,
      }));
    }
    return bar;
  });
  const markers = timed.map((e) => h("div", {
    class: `event ${String(e.event || "").toLowerCase()}`,
    style: { left: at(e.occurredAtMs) },
    title: `${e.event || "Event"} at ${format(e.occurredAtMs, true)}`,
  }));
  return h("figure", { class: "timeline", role: "img", "aria-label": `Timeline: ${media.length} segments and ${timed.length} events from ${format(start)} to ${format(end)} (${zoneName()})` },
    h("div", { class: "track-label", "aria-hidden": "true", text: "Segments" }),
    h("div", { class: "track", "aria-hidden": "true" }, segments),
    h("div", { class: "track-label", "aria-hidden": "true", text: "Events" }),
    h("div", { class: "track", "aria-hidden": "true" }, markers),
    h("figcaption", { class: "legend" },
      h("span", {}, h("span", { class: "swatch segment-swatch" }), "segment"),
      h("span", {}, h("span", { class: "swatch mask-swatch" }), "masked (paused)"),
      h("span", {}, h("span", { class: "swatch joined-swatch" }), "Joined"),
      h("span", {}, h("span", { class: "swatch left-swatch" }), "Left"),
      h("span", {}, h("span", { class: "swatch data-swatch" }), "Data")));
}

function eventDetails(event) {
  if (event.contact) {
    const c = event.contact;
    const name = [c.firstName, c.lastName].filter(Boolean).join(" ");
    return [name, c.userName, c.phoneNumber, c.type].filter(Boolean).join(" · ");
  }
  if (event.data) return JSON.stringify(event.data);
  return "";
}

// Why a media file does not play: the player cannot read gird's JSON answer, so ask
// again for one byte and read the message.
async function playbackProblem(src, type) {
  let response;
  try {
    response = await fetch(src, { headers: { Range: "bytes=0-0", "X-Gird-UI": "1" }, credentials: "same-origin" });
  } catch (_) {
    return "the server cannot be reached.";
  }
  if (response.status === 401) return "your session has ended: sign in again.";
  if (response.ok) return `the browser cannot play this file${type ? ` (${type})` : ""}.`;
  let json = null;
  try {
    json = await response.json();
  } catch (_) {
    json = null;
  }
  return (json && json.statusMessage) || `the server answered HTTP ${response.status}.`;
}

function player(cc, media, index) {
  const src = `/api/v2${media.playPath}?${new URLSearchParams({ contactCenterId: cc })}`;
  const video = String(media.type || "").startsWith("video/");
  // Stored encrypted (a pkcs7 envelope): gird decrypts it for playback.
  const encrypted = typeof media.pkcs7 === "string" && media.pkcs7.trim() !== "";
  // Present (empty) from the start, so that screen readers announce what goes in.
  const problem = h("div", { class: "failure play-error", id: `play-error-${index}`, role: "alert" });
  const element = h(video ? "video" : "audio", {
    controls: true, preload: "none", src,
    "aria-label": `Play segment ${index + 1}${encrypted ? " (encrypted)" : ""}`,
    "aria-describedby": problem.id,
  });
  element.addEventListener("error", async () => {
    const reason = await playbackProblem(src, media.type);
    problem.textContent = `Segment ${index + 1} cannot be played: ${reason}`;
  });
  const masked = masksOf(media);
  return h("li", {},
    h("h3", {}, `Segment ${index + 1}`, encrypted ? " " : "",
      encrypted ? h("span", {
        class: "badge encrypted",
        title: "Stored encrypted; gird decrypts it as it plays",
        text: "encrypted",
      }) : ""),
    h("p", {},
      when(media.startTimeMs, media.startTime), " – ", when(media.stopTimeMs, media.stopTime),
      ` (${duration(span(media))})`,
      media.mediaId ? ` · media id ${media.mediaId}` : "",
      masked.length ? ` · ${masked.length} masked span${masked.length === 1 ? "" : "s"}` : ""),
    element,
    problem);
}

function holdButton(id, query, held, params) {
  const hold = h("button", {
    type: "button",
    id: "hold",
    class: held ? "danger" : "",
    text: held ? "Remove legal hold" : "Apply legal hold",
    onclick: async () => {
      const confirmed = held
        ? await confirmation("Remove the legal hold?",
          `Recording ${id} can then be deleted, with its media files.`, "Remove legal hold", true)
        : await confirmation("Apply a legal hold?",
          `While recording ${id} is on legal hold, it cannot be deleted.`, "Apply legal hold", false);
      if (!confirmed) {
        say("Nothing changed.");
        return;
      }
      hold.disabled = true;
      try {
        await api("POST", `/api/v2/recordings/${encodeURIComponent(id)}?${query}`,
          { operationName: held ? "removeNonDelete" : "applyNonDelete" });
        await recordingView(params);
        say(held ? "The legal hold is removed." : "The recording is on legal hold.");
        document.getElementById("hold").focus();
      } catch (error) {
        hold.disabled = false;
        if (error instanceof SignInNeeded) return signIn(error.message);
        say(error.message, true);
      }
    },
  });
  return hold;
}

async function recordingView(params) {
  const cc = params.get("cc");
  const id = params.get("id");
  if (cc) remember(LAST_CONTACT_CENTER, cc);
  say("Loading…");
  const query = new URLSearchParams({ contactCenterId: cc });
  const answer = await api("GET", `/api/v2/recordings/${encodeURIComponent(id)}?${query}`);
  const recording = answer.recording;
  const who = await me();
  let delivery = null;
  if (!isUser(who)) {
    try {
      delivery = (await api("GET", `${ccPath(cc)}/speechminer/deliveries/${encodeURIComponent(id)}`)).delivery;
    } catch (error) {
      if (error instanceof SignInNeeded) throw error;
    }
  }
  const held = Boolean(recording.nonDelete);
  const holdChange = held ? "removeNonDelete" : "applyNonDelete";
  const forwarding = delivery
    ? h("span", {},
      h("span", { class: `badge ${delivery.state}`, text: delivery.state }),
      ` after ${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"}`,
      delivery.lastError ? ` — ${delivery.lastError}` : "")
    : h("span", { text: "not forwarded" });
  const details = [
    ["Contact center", cc],
    ["Start", when(recording.startTimeMs, recording.startTime)],
    ["Stop", when(recording.stopTimeMs, recording.stopTime)],
    ["Duration", duration(span(recording))],
    ["Caller", recording.callerPhoneNumber || "—"],
    ["Dialed", recording.dialedPhoneNumber || "—"],
    ["Agents", agents(recording).join(", ") || "—"],
    ["Call type", recording.callType || "—"],
    ["Region", recording.region || "—"],
    ["Segments", String((recording.mediaFiles || []).length)],
    ["Legal hold", h("span", {}, h("span", { class: `badge ${held ? "held" : ""}`, text: held ? "on hold" : "not held" }),
      may(who, holdChange) ? [" ", holdButton(id, query, held, params)] : null)],
    isUser(who) ? null : ["SpeechMiner", forwarding],
  ].filter(Boolean);
  const events = eventsOf(recording);
  show(`Recording ${id}`,
    backLink(cc),
    h("p", { class: "zone" }, zoneNote("")),
    h("dl", { class: "panel" }, details.flatMap(([name, value]) => [h("dt", { text: name }), h("dd", {}, value)])),
    h("h2", { text: "Timeline" }),
    timeline(recording, events),
    h("h2", { text: "Media" }),
    h("ol", { class: "players" }, (recording.mediaFiles || []).map((media, index) => player(cc, media, index))),
    h("h2", { text: "Events" }),
    events.length === 0
      ? h("p", { text: "No events." })
      : h("table", { class: "events" },
        h("thead", {}, h("tr", {}, ["Time", "Event", "Details"].map((name) => h("th", { scope: "col", text: name })))),
        h("tbody", {}, events.map((event) => h("tr", {},
          h("td", { class: "start", "data-label": "Time" }, when(event.occurredAtMs, event.occurredAt)),
          h("td", { "data-label": "Event", text: event.event || "—" }),
          h("td", { "data-label": "Details", text: eventDetails(event) }))))));
  say("");
}

function backLink(cc) {
  return h("p", {}, h("a", {
    href: `#/search?${new URLSearchParams({ cc: cc || "" })}`,
    onclick: (event) => { if (history.length > 1) { event.preventDefault(); history.back(); } },
    text: "← Back to the results",
  }));
}

// A recording that cannot be opened: its error alone, never the previous recording.
function recordingFailure(params, message) {
  say("");
  show(`Recording ${params.get("id") || ""}`.trim(), backLink(params.get("cc")),
    failure(`This recording cannot be opened: ${message}`));
}

// ---- routing --------------------------------------------------------------------

async function route() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query || "");
  try {
    if (path === "/recording") await recordingView(params);
    else await searchView(params);
    signedIn();
  } catch (error) {
    if (error instanceof SignInNeeded) return signIn();
    if (error instanceof ApiFailure) signedIn();
    if (path === "/recording") recordingFailure(params, error.message);
    else say(error.message, true);
  }
}

function signedIn() {
  const who = state.me;
  document.getElementById("account").hidden = false;
  const roles = who && who.roles && who.roles.length ? ` (${who.roles.join(", ")})` : "";
  document.getElementById("who").textContent = who ? `Signed in as ${who.userName}${roles}` : "Signed in";
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  route();
});
