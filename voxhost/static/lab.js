// voxhost voice lab: try voices, clone voices, watch the daemon. Plain JavaScript over voxhost's public HTTP API.
// Other files of the page (library.js, history.js, ...) are plain scripts loaded after this one: they use its
// helpers (el, api, getJson, notice, saveBlob, ...) and follow the page through two document events:
// "voxhost:tab" (detail: the tab shown) and "voxhost:event" (detail: one event of /v1/events).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const KEY_STORE = "voxhost.api_key";
const PCM_RATE = 24000; // response_format "pcm" is 24 kHz s16le mono
const state = { voices: [], engines: new Map(), jobs: new Map(), models: new Map() };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function human(bytes) {
  if (bytes === null || bytes === undefined) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0, v = bytes;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(1) : String(v)) + " " + units[i];
}
const fixed = (v, n = 2) => (typeof v === "number" ? v.toFixed(n) : "–");

function notice(message) {
  const box = $("#notice");
  box.textContent = message || "";
  box.hidden = !message;
}

// -- API key and requests --------------------------------------------------------------------------------

let keyPrompt = null;
// Cancel (or Escape) on the key dialog: the page's own requests stop asking until "API key" is pressed, rather
// than each refusal opening the dialog again.
let keyDeclined = false;
// Forget on the key dialog: the live feed, which held the key, connects again without it, and its refusal does not
// ask (it asked at once, so the dialog came straight back); the next request made on the page asks.
let keyForgotten = false;
const KEY_NEEDED = "This voxhost needs its API key: press “API key” to give it.";
const apiKey = () => localStorage.getItem(KEY_STORE) || "";
// A browser sends a header only in Latin-1, and a key is plain ASCII: a pasted curly quote or zero-width space made
// every request fail with the browser's own message, and the page never asked for the key again.
const sendable = (key) => /^[\x20-\x7e]*$/.test(key);
const UNSENDABLE = "The key has a character a browser cannot send (a curly quote, an invisible space?): type it again.";

function askForKey(reason) {
  if (keyPrompt) return keyPrompt;
  const dialog = $("#key-dialog");
  $("#key-input").value = apiKey();
  const hint = $("#key-dialog .hint");
  if (reason) hint.textContent = reason;
  keyPrompt = new Promise((resolve) => {
    const check = (ev) => {
      if (ev.submitter && ev.submitter.value === "save" && !sendable($("#key-input").value.trim())) {
        ev.preventDefault(); // stays open, saying why
        hint.textContent = UNSENDABLE;
        $("#key-input").focus();
      }
    };
    $("#key-form").addEventListener("submit", check);
    dialog.addEventListener("close", () => {
      $("#key-form").removeEventListener("submit", check);
      // Escape closes the dialog without a button's value: that is a Cancel too (it was taken for a choice, which
      // connected the live feed again, whose refusal asked again: the dialog came back at once, for good).
      const choice = ["save", "forget"].includes(dialog.returnValue) ? dialog.returnValue : "cancel";
      keyDeclined = choice === "cancel";
      if (!keyDeclined) keyForgotten = choice === "forget";
      if (!keyDeclined && $("#notice").textContent === KEY_NEEDED) notice("");
      if (choice === "save") localStorage.setItem(KEY_STORE, $("#key-input").value.trim());
      if (choice === "forget") localStorage.removeItem(KEY_STORE);
      keyPrompt = null;
      resolve(choice === "save");
      if (choice !== "cancel") connectEvents();
    }, { once: true });
  });
  dialog.returnValue = "cancel";
  dialog.showModal();
  $("#key-input").focus();
  return keyPrompt;
}

class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code;
  }
}

// fetch with the key; a 401 asks for the key once and tries again.
async function api(path, options = {}, retry = true) {
  if (!sendable(apiKey()) && !(retry && !keyDeclined && (await askForKey(UNSENDABLE)) && sendable(apiKey()))) {
    throw new ApiError(0, { error: { message: UNSENDABLE } });
  }
  const headers = new Headers(options.headers || {});
  if (apiKey()) headers.set("Authorization", "Bearer " + apiKey());
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && retry && !keyDeclined) {
    const body = await response.clone().json().catch(() => null);
    const saved = await askForKey(body && body.error ? body.error.message : null);
    if (saved) return api(path, options, false);
    if (keyDeclined) notice(KEY_NEEDED);
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  return response;
}
const getJson = async (path) => (await api(path)).json();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Saves a blob as a file (the browser's download), e.g. audio fetched with the API key.
function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// A toggle button that records the microphone: a press starts, the next press (or `limit` seconds) stops.
// `idle`: the button's text at rest; `unavailable`: what `status` says where the browser cannot record (not https
// or localhost); `started()` and `tick(seconds)` follow the recording; `done(blob, seconds)` receives it.
function microphoneButton(button, status, { idle, unavailable, limit = Infinity, started, tick, done }) {
  let recorder = null, asking = false;
  button.addEventListener("click", async () => {
    if (recorder) { if (recorder.state !== "inactive") recorder.stop(); return; }
    if (asking) return; // a second press while the browser asks for the microphone
    if (!navigator.mediaDevices || !window.MediaRecorder) { status.textContent = unavailable; return; }
    let stream;
    asking = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      status.textContent = "No microphone: " + err.message;
      return;
    } finally {
      asking = false;
    }
    const chunks = [], began = Date.now();
    const seconds = () => (Date.now() - began) / 1000;
    const rec = recorder = new MediaRecorder(stream);
    const timer = setInterval(() => {
      if (tick) tick(seconds());
      if (seconds() >= limit && rec.state !== "inactive") rec.stop();
    }, 250);
    rec.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    rec.onstop = () => {
      clearInterval(timer);
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      button.textContent = idle; button.setAttribute("aria-pressed", "false");
      done(new Blob(chunks, { type: rec.mimeType || "audio/webm" }), seconds());
    };
    rec.start(250);
    button.textContent = "■ Stop"; button.setAttribute("aria-pressed", "true");
    if (started) started();
  });
}

// "a=1&b=2" from an object, leaving out empty values.
function queryString(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? "?" + text : "";
}

// -- tabs ----------------------------------------------------------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];
function showTab(tab, focus = false) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
  }
  if (focus) tab.focus();
  const name = tab.id.replace("tab-", "");
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
  if (name === "watch") refreshEngines();
  if (name === "clone") refreshLibrary();
  document.dispatchEvent(new CustomEvent("voxhost:tab", { detail: name }));
}
for (const tab of tabs) {
  tab.addEventListener("click", () => showTab(tab));
  tab.addEventListener("keydown", (ev) => {
    const i = tabs.indexOf(tab);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    showTab(tabs[(to + tabs.length) % tabs.length], true);
  });
}

// -- streaming playback -----------------------------------------------------------------------------------

// Plays s16le PCM through Web Audio as it arrives, and keeps it for the <audio> element and the download.
class StreamPlayer {
  constructor() {
    this.ctx = new (window.AudioContext || window.webkitAudioContext)();
    this.ctx.resume();
    this.at = 0;
    this.parts = [];
    this.pending = [];
    this.pendingBytes = 0;
    this.bytes = 0;
    this.odd = null;
    this.sources = new Set();
  }
  push(chunk) {
    if (this.odd) { // a sample split across network chunks
      const joined = new Uint8Array(this.odd.length + chunk.length);
      joined.set(this.odd); joined.set(chunk, this.odd.length);
      chunk = joined; this.odd = null;
    }
    if (chunk.length % 2) { this.odd = chunk.slice(-1); chunk = chunk.slice(0, -1); }
    if (!chunk.length) return;
    this.parts.push(chunk);
    this.bytes += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= PCM_RATE * 0.2) this.flush(); // schedule in ~0.1 s pieces
  }
  flush() {
    if (!this.pendingBytes) return;
    const bytes = new Uint8Array(this.pendingBytes);
    let o = 0;
    for (const p of this.pending) { bytes.set(p, o); o += p.length; }
    this.pending = []; this.pendingBytes = 0;
    const ints = new Int16Array(bytes.buffer);
    const buffer = this.ctx.createBuffer(1, ints.length, PCM_RATE);
    const data = buffer.getChannelData(0);
    for (let i = 0; i < ints.length; i++) data[i] = ints[i] / 32768;
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    this.at = Math.max(this.at, this.ctx.currentTime + 0.05);
    source.start(this.at);
    this.at += buffer.duration;
    this.sources.add(source);
    source.onended = () => this.sources.delete(source);
  }
  get seconds() { return this.bytes / 2 / PCM_RATE; }
  get remaining() { return Math.max(0, this.at - this.ctx.currentTime); }
  stop() {
    for (const s of this.sources) { try { s.stop(); } catch (_) { /* not started */ } }
    this.sources.clear();
    if (this.ctx.state !== "closed") this.ctx.close();
  }
  wav() { // a WAV file of everything received
    const header = new DataView(new ArrayBuffer(44));
    const text = (o, s) => [...s].forEach((c, i) => header.setUint8(o + i, c.charCodeAt(0)));
    text(0, "RIFF"); header.setUint32(4, 36 + this.bytes, true); text(8, "WAVE"); text(12, "fmt ");
    header.setUint32(16, 16, true); header.setUint16(20, 1, true); header.setUint16(22, 1, true);
    header.setUint32(24, PCM_RATE, true); header.setUint32(28, PCM_RATE * 2, true);
    header.setUint16(32, 2, true); header.setUint16(34, 16, true); text(36, "data");
    header.setUint32(40, this.bytes, true);
    return new Blob([header, ...this.parts], { type: "audio/wav" });
  }
}

// Speaks `body` and plays it as it streams; reports into the given result box. Returns the player when done.
// A later call on the same box takes it over: this one then stops and leaves the box to it (returns null).
async function speak(body, ui, signal) {
  if (ui.player) ui.player.stop(); // one voice at a time, and browsers allow few audio contexts
  const player = ui.player = new StreamPlayer();
  // The first call's end (aborted, or answered late) reported into the box a later call had taken: "Stopped." in
  // red over the new one, or the old audio in its player.
  const current = () => ui.player === player;
  ui.box.hidden = false;
  ui.box.dataset.state = "requesting";
  delete ui.box.dataset.firstAudio;
  delete ui.box.dataset.job; // a background job's, shown before
  ui.status.classList.remove("bad");
  ui.status.textContent = "Asking the engine…";
  const started = performance.now();
  let response;
  try {
    response = await api("/v1/audio/speech", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...body, response_format: "pcm" }),
      signal,
    });
    const reader = response.body.getReader();
    let first = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (!current()) { reader.cancel().catch(() => {}); return null; }
      if (done) break;
      if (first === null && value.length) {
        first = (performance.now() - started) / 1000;
        ui.box.dataset.firstAudio = first.toFixed(3);
        ui.box.dataset.state = "streaming";
        ui.status.textContent = `Playing: first audio after ${first.toFixed(2)} s…`;
      }
      player.push(value);
    }
    player.flush();
    const total = (performance.now() - started) / 1000;
    ui.box.dataset.state = "done";
    ui.box.dataset.total = total.toFixed(3);
    ui.box.dataset.seconds = player.seconds.toFixed(3);
    const job = response.headers.get("X-Voxhost-Job");
    // Only emoji or punctuation, say: the daemon answers a short silence, and says so.
    if (!player.bytes || response.headers.get("X-Voxhost-Nothing-To-Say") === "true") {
      ui.status.textContent = "Nothing to say: the text has no words to speak (only emoji, symbols or punctuation?)" +
        (job ? ` · job ${job}` : "");
      ui.audio.removeAttribute("src");
      if (ui.download) ui.download.hidden = true;
      return player;
    }
    ui.status.textContent = `${player.seconds.toFixed(1)} s of audio in ${total.toFixed(2)} s ` +
      `(first audio after ${fixed(first)} s)` + (job ? ` · job ${job}` : "");
    const url = URL.createObjectURL(player.wav());
    if (ui.audio.dataset.url) URL.revokeObjectURL(ui.audio.dataset.url);
    ui.audio.dataset.url = url;
    ui.audio.src = url;
    if (ui.download) { ui.download.href = url; ui.download.hidden = false; }
    return player;
  } catch (err) {
    player.stop();
    if (!current()) return null;
    ui.box.dataset.state = "failed";
    ui.status.classList.add("bad");
    ui.status.textContent = err.name === "AbortError" ? "Stopped." : "Failed: " + err.message;
    return null;
  }
}

// -- Try ---------------------------------------------------------------------------------------------------

function languageLabel(v) {
  if (!v.languages.length) return "any language";
  if (v.languages.length > 1) return "multilingual";
  return v.languages[0];
}

async function refreshVoices() {
  const select = $("#voice");
  const keep = select.value, was = currentVoice();
  try {
    state.voices = (await getJson("/v1/audio/voices")).voices;
  } catch (err) {
    select.replaceChildren(el("option", { value: "", text: "No voices: " + err.message }));
    return;
  }
  const groups = new Map();
  for (const v of state.voices) {
    const label = `${v.engine} · ${languageLabel(v)}`;
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(v);
  }
  const sorted = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
  select.replaceChildren(...sorted.map(([label, voices]) =>
    el("optgroup", { label }, voices.map((v) => el("option", { value: v.id, text: voiceLabel(v, voices) })))));
  if (!state.voices.length) select.replaceChildren(el("option", { value: "", text: "No voices" }));
  if (state.voices.some((v) => v.id === keep)) select.value = keep;
  else { // start with a voice whose engine is ready, rather than the first in the list
    const ready = state.voices.find((v) => { const e = state.engines.get(v.engine); return e && e.loaded; });
    if (ready) select.value = ready.id;
    // The chosen voice went (deleted, in the library or elsewhere): another one took its place in the list
    // without a word, and the next Speak spoke with it.
    const now = currentVoice();
    if (was && now) notice(`The voice “${was.name}” is no longer offered (deleted?): the voice is now “${now.name}”.`);
  }
  voiceChanged();
}

// A voice's name in the list; two cloned voices may share a name (a second recording of Grandma, listed as
// "Grandma (2)"), so those also show their id, which the library page lists them by. Their description names the
// voice as stored.
function voiceLabel(v, group) {
  if (v.kind !== "cloned") return v.name;
  const twin = group.some((o) => o !== v && o.kind === "cloned" && o.description === v.description);
  return twin ? `${v.name} (cloned · ${v.id.split(":").pop()})` : `${v.name} (cloned)`;
}

function currentVoice() { return state.voices.find((v) => v.id === $("#voice").value); }

function voiceChanged() {
  const v = currentVoice();
  $("#voice-info").textContent = v
    ? `${v.id} · ${v.languages.join(", ") || "language from the text"} · ${v.sample_rate} Hz` +
      (v.speakers.length ? ` · ${v.speakers.length} speakers` : "")
    : "";
  renderOptions(v ? v.engine : null);
}

// Inputs for the engine's per-request options, from the JSON Schema /v1/engines gives.
function renderOptions(engineId) {
  const box = $("#options-fields");
  const engine = engineId && state.engines.get(engineId);
  $("#options-engine").textContent = engineId ? `(${engineId})` : "";
  // Drawn again for the same engine (a voice added or an engine loaded anywhere refreshes the lists), the values
  // typed stay, and so does the focus: they were emptied without a word, and the next Speak used the defaults.
  const typed = box.dataset.engine === (engineId || "")
    ? new Map([...box.querySelectorAll("[data-option]")].map((i) => [i.id, i.value])) : new Map();
  const focused = box.contains(document.activeElement) ? document.activeElement.id : null;
  box.dataset.engine = engineId || "";
  box.replaceChildren();
  const props = (engine && engine.options && engine.options.properties) || {};
  for (const [name, spec] of Object.entries(props)) {
    const types = spec.anyOf ? spec.anyOf.filter((s) => s.type !== "null") : [spec];
    const t = types[0] || {};
    const id = "opt-" + name;
    const label = el("label", { for: id, text: spec.title || name });
    let input;
    if (t.type === "boolean") {
      input = el("select", { id, "data-option": name, "data-type": "boolean" },
        el("option", { value: "", text: "default" + (spec.default !== null && spec.default !== undefined ? ` (${spec.default})` : "") }),
        el("option", { value: "true", text: "on" }), el("option", { value: "false", text: "off" }));
    } else if (t.type === "number" || t.type === "integer") {
      const min = t.minimum ?? t.exclusiveMinimum, max = t.maximum ?? t.exclusiveMaximum;
      input = el("input", { id, type: "number", inputmode: "decimal", "data-option": name, "data-type": t.type,
        min, max, step: t.type === "integer" ? 1 : "any",
        placeholder: spec.default !== null && spec.default !== undefined ? String(spec.default) : "default" });
    } else if (t.enum) {
      input = el("select", { id, "data-option": name, "data-type": "string" },
        el("option", { value: "", text: "default" }), t.enum.map((e) => el("option", { value: e, text: e })));
    } else if (t.type === "string") {
      input = el("input", { id, "data-option": name, "data-type": "string", placeholder: "default" });
    } else continue;
    const help = spec.description ? el("small", { class: "hint", text: spec.description }) : null;
    if (typed.has(id)) input.value = typed.get(id);
    box.append(el("div", { class: "field" }, label, input, help));
  }
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  if (!box.children.length) box.append(el("p", { class: "hint", text: "This engine has no options." }));
}

function collectOptions() {
  const out = {};
  for (const input of document.querySelectorAll("[data-option]")) {
    if (input.value === "") continue;
    const type = input.dataset.type;
    out[input.dataset.option] = type === "boolean" ? input.value === "true"
      : type === "number" || type === "integer" ? Number(input.value) : input.value;
  }
  return out;
}

let tryAbort = null;
const tryUi = { box: $("#try-result"), status: $("#try-status"), audio: $("#player"), download: $("#download") };
$("#speed").addEventListener("input", () => { $("#speed-out").textContent = Number($("#speed").value).toFixed(2) + "×"; });
$("#voice").addEventListener("change", voiceChanged);
$("#try-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const v = currentVoice();
  if (!v) return;
  if (tryAbort) tryAbort.abort();
  tryAbort = new AbortController();
  localStorage.removeItem(JOB_STORE); // a new request: the last background job is not followed after a reload
  const body = { model: v.engine, voice: v.id, input: $("#text").value, speed: Number($("#speed").value) };
  const language = $("#language").value.trim();
  if (language) body.language = language;
  const options = collectOptions();
  if (Object.keys(options).length) body.options = options;
  if ($("#try-keep").checked) body.keep = true;
  $("#speak").disabled = true; $("#stop").disabled = false;
  $("#download").hidden = true;
  $("#job-bar").hidden = true;
  $("#download").download = `voxhost-${v.name.replace(/[^\w.-]+/g, "_")}.wav`;
  if ($("#try-async").checked) {
    await runJob(body, tryUi);
    $("#speak").disabled = false; $("#stop").disabled = true;
    tryAbort = null;
    return;
  }
  const player = await speak(body, tryUi, tryAbort.signal);
  $("#speak").disabled = false;
  tryAbort = null;
  // Stop stays usable while the streamed audio is still playing: this audio's, not a later one's (the first
  // audio's end disabled Stop while the next, longer one played on).
  const mine = tryUi.player;
  setTimeout(() => { if (!tryAbort && tryUi.player === mine) $("#stop").disabled = true; },
    player ? player.remaining * 1000 : 0);
});
$("#stop").addEventListener("click", () => {
  if (tryAbort) tryAbort.abort();
  if (tryUi.player) tryUi.player.stop();
  if (tryJob) cancelJob(tryJob);
  $("#stop").disabled = true;
});

// -- Try: background jobs -----------------------------------------------------------------------------------

let tryJob = null; // the id of the background job the Try view follows

function showJob(job, ui) {
  const p = job.progress;
  const bar = $("#job-bar");
  if (p.sentences_total) { bar.max = p.sentences_total; bar.value = p.sentences_done; } else bar.removeAttribute("value");
  ui.box.dataset.state = job.state;
  const sentences = p.sentences_total ? `${p.sentences_done}/${p.sentences_total} sentences` : `${p.sentences_done} sentences`;
  ui.status.textContent = `Background job ${job.id}: ${job.state} · ${sentences} · ${p.audio_seconds.toFixed(1)} s of audio` +
    (job.kept ? " · kept in history" : "");
}

const JOB_STORE = "voxhost.try_job"; // the background job this browser started last, followed again after a reload

function startJobView(ui, text) {
  if (ui.player) { ui.player.stop(); ui.player = null; }
  ui.box.hidden = false;
  ui.box.dataset.state = "requesting";
  ui.status.classList.remove("bad");
  ui.status.textContent = text;
  $("#job-bar").hidden = false;
  $("#job-bar").removeAttribute("value");
}

function jobFailed(ui, err) {
  ui.box.dataset.state = "failed";
  ui.status.classList.add("bad");
  ui.status.textContent = "Failed: " + err.message;
}

// Starts `body` as a background job (202 at once), follows its progress, then fetches its audio.
async function runJob(body, ui) {
  startJobView(ui, "Starting a background job…");
  let job;
  try {
    job = await (await api("/v1/audio/speech", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...body, response_format: "wav", async: true }),
    })).json();
  } catch (err) {
    jobFailed(ui, err);
    return;
  }
  // "Come back for it later": a page closed or reloaded meanwhile follows it again when it opens (it lost it).
  localStorage.setItem(JOB_STORE, job.id);
  await followJob(job, ui);
}

// Follows a background job's progress to its end, then fetches its audio into the player.
async function followJob(job, ui) {
  const id = tryJob = job.id;
  ui.box.dataset.job = id;
  try {
    while (!["finished", "failed", "cancelled"].includes(job.state)) {
      showJob(job, ui);
      await sleep(250);
      if (tryJob !== id) return; // stopped: cancelJob reports it
      job = await getJson(`/v1/jobs/${encodeURIComponent(id)}`);
    }
    showJob(job, ui);
    if (job.state !== "finished") throw new Error(job.error ? job.error.message : job.state);
    const blob = await (await api(`/v1/jobs/${encodeURIComponent(id)}/audio?response_format=wav`)).blob();
    const url = URL.createObjectURL(blob);
    if (ui.audio.dataset.url) URL.revokeObjectURL(ui.audio.dataset.url);
    ui.audio.dataset.url = url;
    ui.audio.src = url;
    if (ui.download) { ui.download.href = url; ui.download.hidden = false; }
    ui.box.dataset.state = "done";
    ui.status.textContent = `Background job ${id} finished: ${job.progress.audio_seconds.toFixed(1)} s of audio in ` +
      `${fixed(job.timings.elapsed)} s` + (job.kept ? " · kept in history" : "");
  } catch (err) {
    if (localStorage.getItem(JOB_STORE) === id) localStorage.removeItem(JOB_STORE); // said once; nothing to fetch
    jobFailed(ui, err);
  } finally {
    if (tryJob === id) tryJob = null;
  }
}

// At start: the background job this browser started last, if the daemon still has it (its audio stays an hour).
async function resumeJob(ui) {
  const id = localStorage.getItem(JOB_STORE);
  if (!id) return;
  let job;
  try {
    job = await getJson(`/v1/jobs/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err.status === 404) localStorage.removeItem(JOB_STORE); // expired, or deleted elsewhere
    return;
  }
  if (tryAbort || tryJob) return; // the user started something else meanwhile
  startJobView(ui, `Background job ${id}…`);
  $("#download").download = `voxhost-${id}.wav`;
  $("#speak").disabled = true; $("#stop").disabled = false;
  await followJob(job, ui);
  $("#speak").disabled = false; $("#stop").disabled = true;
}

async function cancelJob(id) {
  tryJob = null;
  localStorage.removeItem(JOB_STORE);
  try {
    await api(`/v1/jobs/${encodeURIComponent(id)}`, { method: "DELETE" });
    tryUi.box.dataset.state = "cancelled";
    tryUi.status.textContent = `Background job ${id} cancelled and removed.`;
  } catch (err) {
    notice("Could not cancel: " + err.message);
  }
}

// -- Clone -------------------------------------------------------------------------------------------------

let recorded = null;

function setSample(blob) {
  const audio = $("#clone-sample");
  if (audio.dataset.url) URL.revokeObjectURL(audio.dataset.url);
  if (!blob) { audio.hidden = true; audio.removeAttribute("src"); return; }
  audio.dataset.url = URL.createObjectURL(blob);
  audio.src = audio.dataset.url;
  audio.hidden = false;
}

$("#clone-file").addEventListener("change", () => {
  recorded = null;
  const file = $("#clone-file").files[0];
  setSample(file || null);
  $("#record-status").textContent = "";
});

microphoneButton($("#record"), $("#record-status"), {
  idle: "● Record",
  unavailable: "Recording needs https or localhost; upload a file instead.",
  limit: 29.5,
  tick: (s) => { $("#record-status").textContent = `Recording ${s.toFixed(0)} s (up to 30)… press Stop when done.`; },
  done: (blob, s) => {
    recorded = blob;
    $("#clone-file").value = "";
    setSample(recorded);
    $("#record-status").textContent = `Recorded ${s.toFixed(1)} s.`;
  },
});

$("#clone-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const status = $("#clone-status");
  status.classList.remove("bad");
  const file = $("#clone-file").files[0];
  const sample = file || recorded;
  if (!sample) {
    status.classList.add("bad");
    status.textContent = "Choose an audio file or record a sample first.";
    return;
  }
  const form = new FormData();
  form.append("name", $("#clone-name").value.trim());
  form.append("audio_sample", sample, file ? file.name : "recording.webm");
  for (const [field, id] of [["transcript", "#clone-transcript"], ["language", "#clone-language"]]) {
    const value = $(id).value.trim();
    if (value) form.append(field, value);
  }
  $("#clone-save").disabled = true;
  status.textContent = "Saving…";
  try {
    const voice = await (await api("/v1/audio/voices", { method: "POST", body: form })).json();
    status.textContent = `Saved “${voice.name}” (${voice.id}, ${fixed(voice.seconds, 1)} s).` +
      (voice.engines.length ? "" : " No running engine can speak it yet.");
    $("#clone-form").reset();
    recorded = null; setSample(null); $("#record-status").textContent = "";
    await Promise.all([refreshLibrary(voice.id), refreshVoices()]);
  } catch (err) {
    status.classList.add("bad");
    status.textContent = "Not saved: " + err.message;
  } finally {
    $("#clone-save").disabled = false;
  }
});

// -- Watch: engines and models -----------------------------------------------------------------------------------

function memoryText(memory) {
  if (memory === undefined || memory === null) return null;
  if (typeof memory === "number") return human(memory);
  if (typeof memory === "object") {
    return Object.entries(memory).map(([k, v]) => `${k} ${typeof v === "number" && v > 4096 ? human(v) : v}`).join(", ");
  }
  return String(memory);
}

async function refreshEngines() {
  let engines;
  try {
    engines = (await getJson("/v1/engines")).data;
  } catch (err) {
    $("#engines").replaceChildren(el("p", { class: "hint", text: "Cannot read engines: " + err.message }));
    return;
  }
  state.engines = new Map(engines.map((e) => [e.id, e]));
  if (currentVoice()) renderOptions(currentVoice().engine);
  renderWithheld();
  if ($("#view-watch").hidden) return;
  holdEngineFocus();
  $("#engines").replaceChildren(...engines.map(engineCard));
  placeEngineFocus();
  for (const e of engines) if (e.models || e.fetches_models) refreshModels(e.id);
}

// The cards are drawn again whenever an engine loads or unloads (from any door), and a model list whenever it is
// read: the control that had the keyboard focus went with them, and the keyboard was left at the top of the page.
// Each control has a key that a redraw keeps (data-key); the focused one's is held across a redraw, or while the
// control is disabled (busy: a browser drops the focus of a disabled button), and the focus is placed back when
// the control is drawn (or enabled) again. The keyboard going anywhere else drops it.
let engineFocus = null;
document.addEventListener("focusin", () => { engineFocus = null; });

function holdEngineFocus() {
  const active = document.activeElement;
  if (active && active.dataset && active.dataset.key && $("#engines").contains(active)) engineFocus = active.dataset.key;
}

function placeEngineFocus() {
  if (!engineFocus) return;
  const control = document.querySelector(`#engines [data-key="${CSS.escape(engineFocus)}"]`);
  if (!control) return; // its model list is still on its way
  // Disabled now (Load, once the engine is loaded): the control beside it (Unload) takes the focus, if any.
  const target = control.disabled ? control.parentElement.querySelector("button:not([disabled])") : control;
  if (target) target.focus();
}

function engineCard(e) {
  const badge = e.error ? el("span", { class: "badge bad", text: "failed" })
    : el("span", { class: "badge " + (e.loaded ? "ok" : ""), text: e.loaded ? "loaded" : "not loaded" });
  const facts = [["id", e.id], ["mode", e.mode], ["device", e.device], ["memory", memoryText(e.memory)],
    ["can", e.capabilities.join(", ")], ["voices", e.voices], ["queue", e.queue]]
    .filter(([, v]) => v !== undefined && v !== null && v !== "");
  const withheld = e.withheld_voices || [];
  const action = async (button, verb) => {
    holdEngineFocus();
    button.disabled = true;
    button.textContent = verb === "load" ? "Loading…" : "Unloading…";
    try {
      await api(`/v1/engines/${encodeURIComponent(e.id)}/${verb}`, { method: "POST" });
    } catch (err) {
      notice(`Could not ${verb} ${e.id}: ${err.message}`);
    }
    refreshEngines();
  };
  const load = el("button", { type: "button", class: "small", "data-action": "load", "data-key": `load ${e.id}`,
    disabled: e.loaded, "aria-label": `Load ${e.name}` }, "Load");
  load.addEventListener("click", () => action(load, "load"));
  const unload = el("button", { type: "button", class: "small", "data-action": "unload",
    "data-key": `unload ${e.id}`, disabled: !e.loaded, "aria-label": `Unload ${e.name}` }, "Unload");
  unload.addEventListener("click", () => action(unload, "unload"));
  return el("article", { class: "engine", "data-engine": e.id, "aria-label": e.name },
    el("header", {}, el("h3", { text: e.name }), badge),
    el("dl", {}, facts.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })])),
    withheld.length ? el("section", { class: "withheld", "aria-label": `${e.name}: voices not offered` },
      el("h4", { text: "Not offered" }), el("ul", {}, withheld.map(withheldItem))) : null,
    e.error ? el("p", { class: "error", text: e.error }) : null,
    el("div", { class: "actions" }, load, unload),
    e.models || e.fetches_models
      ? el("ul", { class: "models", "data-models": e.id, "aria-label": `${e.name} models` }) : null);
}

// A voice an engine withholds (e.g. F5 with no reference recording in that language), and what would offer it.
function withheldItem(w) {
  return el("li", { "data-withheld": w.id }, el("code", { text: w.id }),
    w.languages.length ? ` (${w.languages.join(", ")})` : "", " — " + w.reason);
}

// Next to the voice picker: the voices it does not list, so a missing language has its reason at hand.
function renderWithheld() {
  const withheld = [...state.engines.values()].flatMap((e) => e.withheld_voices || []);
  $("#withheld").hidden = !withheld.length;
  $("#withheld-summary").textContent = withheld.length > 3 ? `Not offered: ${withheld.length} voices`
    : "Not offered: " + withheld.map((w) => w.id).join(", ");
  $("#withheld-list").replaceChildren(...withheld.map(withheldItem));
}

async function refreshModels(engineId) {
  let models;
  try {
    models = (await getJson(`/v1/engines/${encodeURIComponent(engineId)}/models`)).data;
  } catch (err) {
    // e.g. a voice catalog the daemon could not fetch (offline): say why instead of an empty list
    const list = document.querySelector(`[data-models="${CSS.escape(engineId)}"]`);
    holdEngineFocus();
    if (list) list.replaceChildren(el("li", { class: "hint", text: "Cannot list models: " + err.message }));
    return;
  }
  const list = document.querySelector(`[data-models="${CSS.escape(engineId)}"]`);
  if (!list) return;
  holdEngineFocus();
  list.replaceChildren(...models.map((m) => {
    const key = `${m.engine}/${m.name}`;
    const known = state.models.get(key) || {};
    const pull = el("button", { type: "button", class: "small", "aria-label": `Pull ${m.engine} ${m.name}`,
      "data-key": `pull ${key}`, disabled: m.pulling || known.pulling }, m.installed ? "Pull again" : "Pull");
    pull.addEventListener("click", async () => {
      state.models.set(key, { pulling: true, message: "Starting…" });
      renderModelState(key);
      try {
        await api(`/v1/engines/${encodeURIComponent(m.engine)}/models/${encodeURIComponent(m.name)}/pull`, { method: "POST" });
      } catch (err) {
        state.models.set(key, { failed: true, message: err.message });
        renderModelState(key);
      }
    });
    return el("li", { "data-model": key },
      el("div", { class: "line" }, el("span", { class: "name", text: m.name }),
        el("span", { class: "badge " + (m.installed ? "ok" : "warn"), text: m.installed ? `installed · ${human(m.size)}` : "not installed" }),
        pull),
      el("small", { class: "hint", text: m.repo + (m.description ? " · " + m.description : "") }),
      el("progress", { max: 1, value: 0, hidden: true, "aria-label": `Download of ${m.name}` }),
      el("p", { class: "msg", role: "status" }));
  }));
  for (const m of models) renderModelState(`${m.engine}/${m.name}`);
  placeEngineFocus();
}

function renderModelState(key) {
  const item = document.querySelector(`[data-model="${CSS.escape(key)}"]`);
  const s = state.models.get(key);
  if (!item || !s) return;
  const bar = $("progress", item), msg = $(".msg", item), button = $("button", item);
  bar.hidden = !s.pulling;
  if (s.total) { bar.max = s.total; bar.value = s.downloaded || 0; } else bar.removeAttribute("value");
  msg.textContent = s.message || "";
  msg.classList.toggle("bad", Boolean(s.failed));
  if (s.pulling) holdEngineFocus(); // pressed from the keyboard: back on it when the pull ends
  button.disabled = Boolean(s.pulling);
  if (!s.pulling) placeEngineFocus();
}

// -- Watch: live events and jobs ---------------------------------------------------------------------------------

function jobRow(job) {
  let row = document.querySelector(`#jobs tr[data-job="${CSS.escape(job.job_id)}"]`);
  if (!row) {
    const empty = $("#jobs tr.empty");
    if (empty) empty.remove();
    row = el("tr", { "data-job": job.job_id },
      el("td", { class: "time wide" }), el("td", { class: "door" }), el("td", { class: "voice" }), el("td", { class: "state" }),
      el("td", { class: "num ttfa" }), el("td", { class: "num rtf" }), el("td", { class: "num audio wide" }),
      el("td", { class: "num chars wide" }));
    $("#jobs tbody").prepend(row);
    const rows = document.querySelectorAll("#jobs tbody tr");
    for (let i = 50; i < rows.length; i++) { state.jobs.delete(rows[i].dataset.job); rows[i].remove(); }
  }
  return row;
}

function updateJob(id, fields) {
  const job = { ...(state.jobs.get(id) || { job_id: id }), ...fields };
  state.jobs.set(id, job);
  const row = jobRow(job);
  const cell = (cls, text) => { $("." + cls, row).textContent = text ?? ""; };
  cell("time", job.at ? new Date(job.at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }) : "");
  cell("door", job.door);
  const [engine, voice] = (job.voice || "").includes(":") ? job.voice.split(/:(.*)/) : [job.engine, job.voice];
  const vc = $(".voice", row);
  vc.replaceChildren(voice || "", el("small", { class: "hint", text: engine || "" }));
  vc.title = job.voice || "";
  const st = $(".state", row);
  st.textContent = job.state + (job.state === "running" && job.sentences_done ? ` (${job.sentences_done}${job.sentences_total ? "/" + job.sentences_total : ""})` : "");
  st.className = "state state-" + job.state;
  if (job.message) st.title = job.message;
  row.classList.toggle("running", job.state === "running" || job.state === "queued");
  cell("ttfa", typeof job.ttfa === "number" ? job.ttfa.toFixed(2) + " s" : "");
  cell("rtf", fixed(job.rtf));
  cell("audio", typeof job.audio_seconds === "number" ? job.audio_seconds.toFixed(1) + " s" : "");
  cell("chars", job.chars ?? "");
}

function onEvent(ev) {
  document.dispatchEvent(new CustomEvent("voxhost:event", { detail: ev }));
  switch (ev.event) {
    case "hello":
      for (const job of ev.jobs) updateJob(job.job_id, { ...job, at: Date.now() / 1000 });
      settleMissedJobs(new Set(ev.jobs.map((j) => j.job_id)));
      if (helloSeen) { refreshEngines(); refreshVoices(); } // a restarted daemon may have other engines and voices
      helloSeen = true;
      break;
    case "job_accepted":
      updateJob(ev.job_id, { door: ev.door, voice: ev.voice, engine: ev.engine, chars: ev.chars, at: ev.at, state: "queued" });
      break;
    case "job_started": updateJob(ev.job_id, { state: "running", wait: ev.wait }); break;
    case "job_progress":
      updateJob(ev.job_id, { sentences_done: ev.sentences_done, sentences_total: ev.sentences_total, audio_seconds: ev.audio_seconds });
      break;
    case "job_finished":
      updateJob(ev.job_id, { state: "finished", ttfa: ev.ttfa, rtf: ev.rtf, audio_seconds: ev.audio_seconds });
      break;
    case "job_failed": updateJob(ev.job_id, { state: "failed", message: ev.message }); break;
    case "job_cancelled": updateJob(ev.job_id, { state: "cancelled", message: ev.reason }); break;
    case "engine_loaded": case "engine_unloaded": refreshEngines(); break;
    case "voice_added": case "voice_removed":
      refreshVoices();
      if (!$("#view-clone").hidden) refreshLibrary();
      break;
    case "model_pull_started": case "model_pull_progress": case "model_pull_finished": case "model_pull_failed": {
      const key = `${ev.engine}/${ev.model}`;
      const s = { ...(state.models.get(key) || {}) };
      if (ev.event === "model_pull_started") Object.assign(s, { pulling: true, failed: false, message: `Downloading from ${ev.repo}…` });
      if (ev.event === "model_pull_progress") {
        Object.assign(s, { pulling: true, downloaded: ev.downloaded, total: ev.total });
        s.message = `${human(ev.downloaded)}${ev.total ? " of " + human(ev.total) : ""}`;
      }
      if (ev.event === "model_pull_finished") { Object.assign(s, { pulling: false, failed: false, message: "Installed." }); refreshModels(ev.engine); }
      if (ev.event === "model_pull_failed") Object.assign(s, { pulling: false, failed: true, message: "Failed: " + ev.message });
      state.models.set(key, s);
      renderModelState(key);
      break;
    }
  }
}

// Jobs shown as queued or running that a new connection's hello does not list ended while the feed was away
// (a daemon restart, a stream ended for falling behind): their end events were missed, so ask for each.
let helloSeen = false;
function settleMissedJobs(inProgress) {
  for (const job of state.jobs.values()) {
    if (!["queued", "running"].includes(job.state) || inProgress.has(job.job_id)) continue;
    getJson(`/v1/jobs/${encodeURIComponent(job.job_id)}`).then(
      (record) => updateJob(job.job_id, { state: record.state, message: record.error ? record.error.message : undefined }),
      (err) => updateJob(job.job_id, { state: "unknown", message: err.status === 404
        ? "It ended while the live feed was away, and the daemon no longer knows it (it restarted)."
        : "It ended while the live feed was away: " + err.message }));
  }
}

let source = null, retryTimer = null, retryDelay = 1000;
function connectEvents() {
  if (source) source.close();
  clearTimeout(retryTimer);
  const live = $("#live");
  const key = apiKey();
  const feed = source = new EventSource("/v1/events" + (key ? "?api_key=" + encodeURIComponent(key) : ""));
  source.onopen = () => {
    live.textContent = "live"; live.className = "badge ok";
    retryDelay = 1000;
    if ($("#notice").textContent.startsWith(LIVE_NOTICE)) notice("");
  };
  source.onmessage = (m) => {
    try { onEvent(JSON.parse(m.data)); } catch (err) { console.error("bad event", err); }
  };
  source.onerror = async () => {
    live.textContent = "reconnecting…"; live.className = "badge warn";
    if (feed.readyState === EventSource.CLOSED) { // refused (e.g. 401): find out why through a normal request
      live.textContent = "offline"; live.className = "badge bad";
      try {
        await api("/v1/engines", {}, !keyForgotten);
      } catch (err) {
        if (err.status === 401) { // wait for the key
          notice(keyDeclined || keyForgotten ? KEY_NEEDED : LIVE_NOTICE + err.message);
          return;
        }
        // The daemon is stopping, restarting or unreachable: try again rather than stay offline until a reload.
        notice(`${LIVE_NOTICE}${err.message} (trying again)`);
      }
      if (feed !== source) return; // a key saved meanwhile has connected again
      // After a pause that grows while the feed stays refused, so a feed refused alone is not asked in a loop.
      retryTimer = setTimeout(connectEvents, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    }
  };
}
const LIVE_NOTICE = "Live events: ";

// -- start --------------------------------------------------------------------------------------------------

$("#key-button").addEventListener("click", () => {
  keyDeclined = false;
  // Read again with a new key only: after Forget they were refused, and asked for the key again at once.
  askForKey(null).then((saved) => { if (saved) { refreshVoices(); refreshEngines(); } });
});

async function start() {
  const wanted = tabs.find((t) => "#" + t.id.replace("tab-", "") === location.hash);
  await refreshEngines(); // asks for the key if the server needs one
  connectEvents();
  await refreshVoices();
  showTab(wanted || tabs[0]);
  document.body.dataset.ready = "true";
  resumeJob(tryUi);
}
// After every script of the page has run (they are deferred, in order): their functions exist at start.
document.addEventListener("DOMContentLoaded", start);
