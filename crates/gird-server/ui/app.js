// gird's web UI: sign in, search recordings, open one, play it, put it on legal hold.
// Plain JavaScript, no dependencies; every text from the server goes in as text, never
// as markup.
"use strict";

const CALL_TYPES = ["Inbound", "Outbound", "Internal", "Consult", "Unknown"];
const PAGE_SIZE = 25;
const state = { csrf: null, user: null, contactCenters: null };

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

class SignInNeeded extends Error {}

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
    throw new Error((json && json.statusMessage) || `The server answered HTTP ${response.status}.`);
  }
  return json;
}

function ccPath(cc) {
  return `/api/v2/ops/contact-centers/${encodeURIComponent(cc)}`;
}

function millis(iso) {
  const value = Date.parse(iso);
  return Number.isNaN(value) ? null : value;
}

function when(iso) {
  const value = millis(iso);
  if (value === null) return h("span", { text: iso || "—" });
  const date = new Date(value);
  return h("time", {
    datetime: date.toISOString(),
    title: `UTC: ${date.toISOString().replace("T", " ").replace(".000Z", "Z")}`,
    text: date.toLocaleString(),
  });
}

function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

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

function span(recording) {
  return (millis(recording.stopTime) ?? 0) - (millis(recording.startTime) ?? 0);
}

// Local datetime-local input values <-> ISO instants.
function toInput(iso) {
  const value = millis(iso);
  if (value === null) return "";
  const date = new Date(value);
  const local = new Date(value - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

function fromInput(value) {
  return value ? new Date(value).toISOString() : "";
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
  return h("div", { class: "field" },
    h("label", { for: id, text: label }),
    input,
    hint ? h("span", { class: "hint", id: `${id}-hint`, text: hint }) : null);
}

// ---- sign in --------------------------------------------------------------------

function signIn(message) {
  document.getElementById("account").hidden = true;
  const user = h("input", { id: "user", name: "user", autocomplete: "username", value: "ops", required: true });
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
      state.user = user.value;
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
  state.user = null;
  state.contactCenters = null;
  signIn("Signed out.");
}

// ---- search ---------------------------------------------------------------------

async function contactCenters() {
  if (!state.contactCenters) {
    const answer = await api("GET", "/api/v2/ops/contact-centers");
    state.contactCenters = (answer.uris || []).map((uri) => decodeURIComponent(uri.split("/").pop()));
  }
  return state.contactCenters;
}

async function searchView(params) {
  const ccs = await contactCenters();
  const cc = params.get("cc") || ccs[0] || "";
  const inputs = {
    cc: h("select", { id: "cc", name: "cc" },
      ccs.map((id) => h("option", { value: id, selected: id === cc, text: id }))),
    from: h("input", { id: "from", type: "datetime-local", value: toInput(params.get("from")) }),
    to: h("input", { id: "to", type: "datetime-local", value: toInput(params.get("to")) }),
    caller: h("input", { id: "caller", inputmode: "tel", value: params.get("caller") || "", "aria-describedby": "caller-hint" }),
    dialed: h("input", { id: "dialed", inputmode: "tel", value: params.get("dialed") || "", "aria-describedby": "dialed-hint" }),
    agent: h("input", { id: "agent", value: params.get("agent") || "" }),
    callType: h("select", { id: "callType" },
      h("option", { value: "", text: "Any" }),
      CALL_TYPES.map((type) => h("option", { value: type, selected: type === params.get("callType"), text: type }))),
  };
  const form = h("form", { class: "panel", role: "search", "aria-label": "Find recordings" },
    h("div", { class: "fields" },
      field("Contact center", inputs.cc),
      field("From (your time)", inputs.from),
      field("To (your time)", inputs.to),
      field("Caller number", inputs.caller, "* matches anything, e.g. *0000"),
      field("Dialed number", inputs.dialed, "* matches anything"),
      field("Agent", inputs.agent),
      field("Call type", inputs.callType)),
    h("div", { class: "actions" },
      h("button", { class: "primary", type: "submit", text: "Search" }),
      h("button", { type: "reset", text: "Clear", onclick: () => setTimeout(() => go("/search", { cc: inputs.cc.value }), 0) })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go("/search", {
      cc: inputs.cc.value,
      from: fromInput(inputs.from.value),
      to: fromInput(inputs.to.value),
      caller: inputs.caller.value.trim(),
      dialed: inputs.dialed.value.trim(),
      agent: inputs.agent.value.trim(),
      callType: inputs.callType.value,
    });
  });
  const results = h("section", { "aria-labelledby": "results-title" });
  show("Recordings", form, results);
  if (!cc) {
    results.append(h("p", { text: "There is no contact center yet." }));
    return;
  }
  await searchResults(results, cc, params);
}

async function searchResults(results, cc, params) {
  const query = new URLSearchParams({ contactCenterId: cc, limit: String(PAGE_SIZE) });
  const mapping = { from: "startTime", to: "endTime", caller: "callerPhoneNumber", dialed: "dialedPhoneNumber", agent: "userName", callType: "callType", cursor: "cursor" };
  for (const [name, parameter] of Object.entries(mapping)) {
    if (params.get(name)) query.set(parameter, params.get(name));
  }
  say("Searching…");
  const answer = await api("GET", `/api/v2/recordings?${query}`);
  const recordings = answer.recordings || [];
  say(`${recordings.length} recording${recordings.length === 1 ? "" : "s"} on this page.`);
  const rows = recordings.map((recording) => {
    const link = h("a", {
      href: `#/recording?${new URLSearchParams({ cc, id: recording.id })}`,
      "aria-label": `Open recording ${recording.id}`,
    }, when(recording.startTime));
    return h("tr", {},
      h("td", { "data-label": "Start" }, link),
      h("td", { class: "num", "data-label": "Duration", text: duration(span(recording)) }),
      h("td", { "data-label": "Caller", text: recording.callerPhoneNumber || "—" }),
      h("td", { "data-label": "Dialed", text: recording.dialedPhoneNumber || "—" }),
      h("td", { "data-label": "Agent", text: agents(recording).join(", ") || "—" }),
      h("td", { class: "num", "data-label": "Segments", text: String((recording.mediaFiles || []).length) }));
  });
  const cursorOf = (link) => (link ? new URL(link, location.origin).searchParams.get("cursor") : null);
  const page = (cursor) => () => {
    const next = Object.fromEntries(params.entries());
    next.cc = cc;
    next.cursor = cursor;
    go("/search", next);
  };
  const newer = cursorOf(answer.previous);
  const older = cursorOf(answer.next);
  results.append(
    h("h2", { id: "results-title", text: "Results" }),
    recordings.length === 0
      ? h("p", { text: "No recording matches." })
      : h("table", {},
        h("caption", { text: "Newest first. Times are in your time zone; hover for UTC." }),
        h("thead", {}, h("tr", {},
          ["Start", "Duration", "Caller", "Dialed", "Agent", "Segments"].map((name) => h("th", { scope: "col", text: name })))),
        h("tbody", {}, rows)),
    h("nav", { class: "actions", "aria-label": "Pages" },
      h("button", { type: "button", disabled: !newer, onclick: newer ? page(newer) : null, text: "← Newer" }),
      h("button", { type: "button", disabled: !older, onclick: older ? page(older) : null, text: "Older →" })));
}

// ---- one recording --------------------------------------------------------------

function masksOf(media) {
  const spans = [];
  let paused = null;
  for (const mask of media.masks || []) {
    const at = millis(mask.time);
    if (at === null) continue;
    if (mask.type === "paused" && paused === null) paused = at;
    if (mask.type === "resume" && paused !== null) {
      spans.push([paused, at]);
      paused = null;
    }
  }
  if (paused !== null) spans.push([paused, millis(media.stopTime)]);
  return spans;
}

function timeline(recording) {
  const media = recording.mediaFiles || [];
  const events = recording.eventHistory || [];
  const instants = [
    ...media.flatMap((m) => [millis(m.startTime), millis(m.stopTime)]),
    ...events.map((e) => millis(e.occurredAt)),
  ].filter((value) => value !== null);
  if (instants.length === 0) return h("p", { text: "No times to show." });
  const start = Math.min(...instants);
  const end = Math.max(...instants);
  const width = Math.max(1, end - start);
  const at = (ms) => `${(((ms - start) / width) * 100).toFixed(3)}%`;
  const length = (from, to) => `${(((to - from) / width) * 100).toFixed(3)}%`;
  const segments = media.map((m, index) => {
    const from = millis(m.startTime);
    const to = millis(m.stopTime);
    const bar = h("div", {
      class: "segment",
      style: { left: at(from), width: length(from, to) },
      title: `Segment ${index + 1}: ${new Date(from).toLocaleTimeString()}–${new Date(to).toLocaleTimeString()}`,
      text: String(index + 1),
    });
    for (const [maskFrom, maskTo] of masksOf(m)) {
      const left = ((maskFrom - from) / Math.max(1, to - from)) * 100;
      const size = ((maskTo - maskFrom) / Math.max(1, to - from)) * 100;
      bar.append(h("span", {
        class: "mask",
        style: { left: `${left.toFixed(3)}%`, width: `${size.toFixed(3)}%` },
        title: `Masked (paused) ${new Date(maskFrom).toLocaleTimeString()}–${new Date(maskTo).toLocaleTimeString()}`,
      }));
    }
    return bar;
  });
  const markers = events.filter((e) => millis(e.occurredAt) !== null).map((e) => h("div", {
    class: `event ${String(e.event || "").toLowerCase()}`,
    style: { left: at(millis(e.occurredAt)) },
    title: `${e.event || "Event"} at ${new Date(millis(e.occurredAt)).toLocaleTimeString()}`,
  }));
  return h("figure", { class: "timeline", role: "img", "aria-label": `Timeline: ${media.length} segments and ${events.length} events from ${new Date(start).toLocaleString()} to ${new Date(end).toLocaleString()}` },
    h("div", { class: "track-label", "aria-hidden": "true", text: "Segments" }),
    h("div", { class: "track", "aria-hidden": "true" }, segments),
    h("div", { class: "track-label", "aria-hidden": "true", text: "Events" }),
    h("div", { class: "track", "aria-hidden": "true" }, markers),
    h("figcaption", { class: "legend" },
      h("span", {}, h("span", { class: "swatch", style: { background: "#0a5bd3" } }), "segment"),
      h("span", {}, h("span", { class: "swatch mask", style: { position: "static", display: "inline-block" } }), "masked (paused)"),
      h("span", {}, h("span", { class: "swatch", style: { background: "#1a7f37" } }), "Joined"),
      h("span", {}, h("span", { class: "swatch", style: { background: "#b42318" } }), "Left"),
      h("span", {}, h("span", { class: "swatch", style: { background: "#8250df" } }), "Data")));
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

function player(recording, cc, media, index) {
  const src = `/api/v2${media.playPath}?${new URLSearchParams({ contactCenterId: cc })}`;
  const video = String(media.type || "").startsWith("video/");
  const element = h(video ? "video" : "audio", {
    controls: true, preload: "none", src, "aria-label": `Play segment ${index + 1}`,
  });
  const from = millis(media.startTime);
  const to = millis(media.stopTime);
  const masked = masksOf(media);
  return h("li", {},
    h("h3", { text: `Segment ${index + 1}` }),
    h("p", {},
      when(media.startTime), " – ", when(media.stopTime),
      ` (${duration(to - from)})`,
      media.mediaId ? ` · media id ${media.mediaId}` : "",
      masked.length ? ` · ${masked.length} masked span${masked.length === 1 ? "" : "s"}` : ""),
    element);
}

async function recordingView(params) {
  const cc = params.get("cc");
  const id = params.get("id");
  say("Loading…");
  const query = new URLSearchParams({ contactCenterId: cc });
  const answer = await api("GET", `/api/v2/recordings/${encodeURIComponent(id)}?${query}`);
  const recording = answer.recording;
  let delivery = null;
  try {
    delivery = (await api("GET", `${ccPath(cc)}/speechminer/deliveries/${encodeURIComponent(id)}`)).delivery;
  } catch (error) {
    if (error instanceof SignInNeeded) throw error;
  }
  const held = Boolean(recording.nonDelete);
  const hold = h("button", {
    type: "button",
    class: held ? "danger" : "",
    text: held ? "Remove legal hold" : "Apply legal hold",
    onclick: async () => {
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
  hold.id = "hold";
  const forwarding = delivery
    ? h("span", {},
      h("span", { class: `badge ${delivery.state}`, text: delivery.state }),
      ` after ${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"}`,
      delivery.lastError ? ` — ${delivery.lastError}` : "")
    : h("span", { text: "not forwarded" });
  const details = [
    ["Contact center", cc],
    ["Start", when(recording.startTime)],
    ["Stop", when(recording.stopTime)],
    ["Duration", duration(span(recording))],
    ["Caller", recording.callerPhoneNumber || "—"],
    ["Dialed", recording.dialedPhoneNumber || "—"],
    ["Agents", agents(recording).join(", ") || "—"],
    ["Call type", recording.callType || "—"],
    ["Region", recording.region || "—"],
    ["Segments", String((recording.mediaFiles || []).length)],
    ["Legal hold", h("span", {}, h("span", { class: `badge ${held ? "held" : ""}`, text: held ? "on hold" : "not held" }), " ", hold)],
    ["SpeechMiner", forwarding],
  ];
  const events = recording.eventHistory || [];
  show(`Recording ${id}`,
    h("p", {}, h("a", { href: "#/", onclick: (event) => { if (history.length > 1) { event.preventDefault(); history.back(); } }, text: "← Back to the results" })),
    h("dl", { class: "panel" }, details.flatMap(([name, value]) => [h("dt", { text: name }), h("dd", {}, value)])),
    h("h2", { text: "Timeline" }),
    timeline(recording),
    h("h2", { text: "Media" }),
    h("ol", { class: "players" }, (recording.mediaFiles || []).map((media, index) => player(recording, cc, media, index))),
    h("h2", { text: "Events" }),
    events.length === 0
      ? h("p", { text: "No events." })
      : h("table", {},
        h("thead", {}, h("tr", {}, ["Time", "Event", "Details"].map((name) => h("th", { scope: "col", text: name })))),
        h("tbody", {}, events.map((event) => h("tr", {},
          h("td", { "data-label": "Time" }, when(event.occurredAt)),
          h("td", { "data-label": "Event", text: event.event || "—" }),
          h("td", { "data-label": "Details", text: eventDetails(event) }))))));
  say("");
}

// ---- routing --------------------------------------------------------------------

async function route() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query || "");
  try {
    if (path === "/recording") await recordingView(params);
    else await searchView(params);
    document.getElementById("account").hidden = false;
    document.getElementById("who").textContent = state.user ? `Signed in as ${state.user}` : "Signed in";
  } catch (error) {
    if (error instanceof SignInNeeded) signIn();
    else say(error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  route();
});
