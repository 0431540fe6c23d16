// voxhost voice lab: the History tab: stored outputs (what was said and kept), searched and filtered, a page at a
// time; play, download or delete one, or download or delete every match. Uses lab.js's helpers.
"use strict";

const outputsState = { offset: 0, limit: 10, total: 0, loaded: false, turn: 0 };

function dayStart(value) {
  return value ? new Date(value + "T00:00:00").getTime() / 1000 : "";
}

// The filter form as the query of /v1/outputs (the "To" day counts whole).
function outputFilters() {
  const until = dayStart($("#history-until").value);
  return {
    q: $("#history-q").value.trim(),
    voice: $("#history-voice").value,
    door: $("#history-door").value,
    engine: $("#history-engine").value,
    since: dayStart($("#history-since").value),
    until: until === "" ? "" : until + 86400,
  };
}

function fillChoices() {
  const fill = (select, values, label) => {
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "", text: label }), ...values.map((v) => el("option", { value: v, text: v })));
    select.value = values.includes(chosen) ? chosen : "";
  };
  fill($("#history-voice"), state.voices.map((v) => v.id), "Any voice");
  fill($("#history-engine"), [...state.engines.keys()], "Any engine");
}

function historyStatus(text, bad = false) {
  const status = $("#history-status");
  status.classList.toggle("bad", bad);
  status.textContent = text;
}

async function refreshHistory() {
  const list = $("#history-list");
  let page;
  // Only the latest refresh answers for the list: with Older pressed twice, or a search while the first page
  // refreshes, an earlier answer arriving last showed its outputs under the later page's numbers.
  const turn = ++outputsState.turn;
  try {
    page = await getJson("/v1/outputs" + queryString({ ...outputFilters(), limit: outputsState.limit, offset: outputsState.offset }));
  } catch (err) {
    if (turn !== outputsState.turn) return;
    list.replaceChildren(el("li", { class: "hint", text: "Cannot read the history: " + err.message }));
    return;
  }
  if (turn !== outputsState.turn) return;
  if (!page.data.length && outputsState.offset > 0) { // the last page emptied: show the one before
    outputsState.offset = Math.max(0, outputsState.offset - outputsState.limit);
    return refreshHistory();
  }
  outputsState.total = page.total;
  outputsState.loaded = true;
  // An output whose player was loaded keeps its item, player and all, and the focus stays where it was: the
  // refresh for a job that finished (any door's, kept) rebuilt the list, which cut the audio being played
  // mid-word and sent a keyboard back to the top of the page.
  const loaded = new Map([...list.querySelectorAll("li[data-output]")]
    .filter((li) => $("audio", li).dataset.url).map((li) => [li.dataset.output, li]));
  const focused = list.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
  list.replaceChildren(...(page.data.length ? page.data.map((o) => loaded.get(o.id) || outputItem(o))
    : [el("li", { class: "hint", text: "Nothing kept yet. Tick “Keep in history” on the Try tab, or send \"keep\": true." })]));
  for (const li of loaded.values()) if (!li.isConnected) URL.revokeObjectURL($("audio", li).dataset.url);
  const again = focused && list.querySelector(`[aria-label="${CSS.escape(focused)}"]`);
  if (again) again.focus();
  const first = page.total ? outputsState.offset + 1 : 0;
  $("#history-page").textContent = `${first}–${outputsState.offset + page.data.length} of ${page.total}`;
  $("#history-prev").disabled = outputsState.offset === 0;
  $("#history-next").disabled = !page.has_more;
  document.body.dataset.history = String(page.total);
}

function outputItem(o) {
  const when = new Date(o.created_at * 1000).toLocaleString();
  const text = o.text || o.spoken || "(text streamed in)";
  const audio = el("audio", { controls: true, hidden: true, preload: "none" });
  return el("li", { class: "output", "data-output": o.id },
    el("div", { class: "what" },
      el("p", { class: "text", title: o.spoken && o.spoken !== o.text ? "Spoken: " + o.spoken : null, text }),
      el("small", { class: "hint", text: `${when} · ${o.door} · ${o.voice} · ${o.audio_seconds.toFixed(1)} s · ${human(o.size)}` +
        (o.wer !== null ? ` · WER ${o.wer.toFixed(2)}` : "") })),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "small", "aria-label": `Play ${o.id}`, onclick: () => playOutput(o, audio) }, "▶ Play"),
      el("button", { type: "button", class: "small", "aria-label": `Download ${o.id}`, onclick: () => downloadOutput(o) }, "Download"),
      el("button", { type: "button", class: "small danger", "aria-label": `Delete ${o.id}`, onclick: () => deleteOutput(o) }, "Delete")),
    audio);
}

async function outputBlob(o) {
  return (await api(`/v1/outputs/${encodeURIComponent(o.id)}/audio`)).blob();
}

async function playOutput(o, audio) {
  try {
    if (!audio.dataset.url) {
      audio.dataset.url = URL.createObjectURL(await outputBlob(o));
      audio.src = audio.dataset.url;
    }
    audio.hidden = false;
    await audio.play();
  } catch (err) {
    if (err.name !== "NotAllowedError") historyStatus("Cannot play: " + err.message, true);
  }
}

async function downloadOutput(o) {
  try {
    saveBlob(await outputBlob(o), `voxhost-${o.id}.wav`);
  } catch (err) {
    historyStatus("Cannot download: " + err.message, true);
  }
}

async function deleteOutput(o) {
  if (!confirm(`Delete this output (“${(o.text || o.id).slice(0, 60)}”)? This cannot be undone.`)) return;
  // The focus was on the Delete button, which goes with the output: the output that takes its place (or the one
  // before it) takes the focus, rather than the top of the page; with none left, the text search.
  const items = [...document.querySelectorAll("#history-list > li[data-output]")];
  const at = items.findIndex((li) => li.dataset.output === o.id);
  try {
    await api(`/v1/outputs/${encodeURIComponent(o.id)}`, { method: "DELETE" });
    historyStatus("Deleted.");
  } catch (err) {
    historyStatus("Not deleted: " + err.message, true);
  }
  await refreshHistory();
  const left = [...document.querySelectorAll("#history-list > li[data-output]")];
  const near = left.find((li) => li.dataset.output === o.id) || left[Math.min(Math.max(at, 0), left.length - 1)];
  if (near) $("button", near).focus();
  else $("#history-q").focus();
}

// One output at a time: Play on another (or its player's own button) pauses the one playing; they played over
// each other. "play" does not bubble, hence the capture.
$("#history-list").addEventListener("play", (ev) => {
  for (const audio of $("#history-list").querySelectorAll("audio")) if (audio !== ev.target) audio.pause();
}, true);

$("#history-filter").addEventListener("submit", (ev) => {
  ev.preventDefault();
  outputsState.offset = 0;
  historyStatus("");
  refreshHistory();
});
$("#history-prev").addEventListener("click", () => {
  outputsState.offset = Math.max(0, outputsState.offset - outputsState.limit);
  refreshHistory();
});
$("#history-next").addEventListener("click", () => { outputsState.offset += outputsState.limit; refreshHistory(); });

$("#history-download-all").addEventListener("click", async () => {
  const filters = outputFilters();
  const all = Object.values(filters).every((v) => v === "");
  try {
    const blob = await (await api("/v1/outputs/archive" + queryString(filters))).blob();
    saveBlob(blob, `voxhost-outputs-${new Date().toISOString().slice(0, 10)}.zip`);
    historyStatus(`Downloaded ${all ? "every output" : "the matching outputs"} as one zip.`);
  } catch (err) {
    historyStatus("Cannot download: " + err.message, true);
  }
});

$("#history-delete-all").addEventListener("click", async () => {
  const filters = Object.fromEntries(Object.entries(outputFilters()).filter(([, v]) => v !== ""));
  const body = Object.keys(filters).length ? filters : { all: true };
  const post = (confirmed) => api("/v1/outputs/delete", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, confirm: confirmed }) }).then((r) => r.json());
  try {
    const dry = await post(false);
    if (!dry.matched.length) { historyStatus("Nothing matches."); return; }
    if (!confirm(`Delete ${dry.matched.length} output(s)${body.all ? " (everything kept)" : ""}? This cannot be undone.`)) return;
    const done = await post(true);
    historyStatus(`Deleted ${done.deleted.length} output(s).`);
    outputsState.offset = 0;
    await refreshHistory();
  } catch (err) {
    historyStatus("Not deleted: " + err.message, true);
  }
});

document.addEventListener("voxhost:tab", (ev) => {
  if (ev.detail !== "history") return;
  fillChoices();
  refreshHistory();
});

// A job that finishes may have been kept: refresh the first page while it is in view (at most twice a second).
let historyTimer = null;
document.addEventListener("voxhost:event", (ev) => {
  if (ev.detail.event !== "job_finished" || $("#view-history").hidden || outputsState.offset) return;
  clearTimeout(historyTimer);
  historyTimer = setTimeout(refreshHistory, 500);
});
