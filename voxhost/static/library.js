// voxhost voice lab: the voice library on the Clone tab: search, tags, pages, edit, new recordings, usage,
// preview, export and import, broken voices, and deleting one voice or every voice with a tag. Uses lab.js's helpers.
"use strict";

const libraryState = { shown: 20, step: 20, tags: [], turn: 0, focus: null };

function libraryQuery(extra = {}) {
  return queryString({ q: $("#library-q").value.trim(), tag: $("#library-tag").value, ...extra });
}

function usageText(v) {
  if (!v.uses) return "not used yet";
  const last = v.last_used ? new Date(v.last_used * 1000).toLocaleString() : "?";
  return `used ${v.uses}× · last ${last}`;
}

// focusId (and focusAction, the data-action of one of its buttons): where the focus goes once the list is drawn.
async function refreshLibrary(focusId, focusAction = null) {
  const list = $("#library");
  let page, all;
  if (focusId) libraryState.focus = { id: focusId, action: focusAction };
  const turn = ++libraryState.turn;
  try {
    [page, all] = await Promise.all([
      getJson("/v1/library/voices" + libraryQuery({ limit: libraryState.shown })),
      getJson("/v1/library/voices?limit=500"),
    ]);
  } catch (err) {
    if (turn !== libraryState.turn) return;
    list.replaceChildren(el("li", { class: "hint", text: "Cannot read the library: " + err.message }));
    return;
  }
  if (turn !== libraryState.turn) return; // a later search (e.g. a tag chosen while typing) answers for the list
  // A voice's button keeps the focus when the lists are drawn again (a voice added or removed elsewhere: its event
  // refreshes them), found again by its voice and action, unless a refresh asked for another focus.
  const focused = document.activeElement;
  const holder = focused && focused.closest("#library li[data-voice], #library-broken-list li[data-broken]");
  if (holder && focused.dataset.action && !libraryState.focus) {
    libraryState.focus = { id: holder.dataset.voice || holder.dataset.broken, action: focused.dataset.action };
  }
  renderTags([...new Set(all.data.flatMap((v) => v.tags))].sort());
  renderBroken(all.broken || []);
  $("#library-count").textContent = countText(page.total, all.total, (all.broken || []).length);
  $("#library-more").hidden = !page.has_more;
  if (!page.data.length) {
    const filtered = $("#library-q").value.trim() || $("#library-tag").value;
    list.replaceChildren(el("li", { class: "hint", text: filtered ? "No voice matches." : "No voices yet. Add one above." }));
    placeLibraryFocus();
    return;
  }
  // A voice being edited keeps its item, form and typing, and the focus stays where it was: a voice added or
  // removed elsewhere meanwhile (its event refreshes the list) rebuilt the list and lost the unsaved edit.
  const editing = new Map([...list.querySelectorAll("li[data-voice]")].filter((li) => $("form.edit", li))
    .map((li) => [li.dataset.voice, li]));
  const active = list.contains(document.activeElement) ? document.activeElement : null;
  list.replaceChildren(...page.data.map((v) => editing.get(v.id) || voiceItem(v)));
  if (active && active.isConnected) active.focus();
  placeLibraryFocus();
}

// The focus a refresh was asked for, placed by whichever refresh answers last (the voice_removed event's refresh
// dropped the one of Delete, and the focus with it): the voice's button of that action, else its first one. A
// voice gone takes the keyboard to the search box.
function placeLibraryFocus() {
  const wanted = libraryState.focus;
  libraryState.focus = null;
  if (!wanted) return;
  const id = CSS.escape(wanted.id);
  const button = wanted.action ? `button[data-action="${CSS.escape(wanted.action)}"]` : "button:not([disabled])";
  const item = document.querySelector(`#library [data-voice="${id}"] ${button}, ` +
    `#library-broken-list [data-broken="${id}"] ${button}`);
  if (item) item.focus();
  else if (!$("#view-clone").contains(document.activeElement)) $("#library-q").focus();
}

// Broken voices count towards the library's quota (as its "full" refusal counts them), so the count says so too.
function countText(matched, total, broken) {
  const voices = matched === total ? `${total}` : `${matched} of ${total}`;
  return `(${voices}${broken ? ` · ${broken} broken` : ""})`;
}

// Every broken voice, whatever the search: they are few, and each takes space until it is deleted.
function renderBroken(broken) {
  $("#library-broken").hidden = !broken.length;
  $("#library-broken-list").replaceChildren(...broken.map(brokenItem));
}

function brokenItem(v) {
  const changed = new Date(v.modified_at * 1000).toLocaleString();
  return el("li", { class: "voice broken", "data-broken": v.id },
    el("div", { class: "who" },
      el("strong", { text: v.id }),
      el("small", { class: "problem", text: "Broken: " + v.problem }),
      el("small", { text: `${human(v.bytes)} · changed ${changed}` })),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "small danger", "data-action": "delete",
        "aria-label": `Delete the broken voice ${v.id}`,
        onclick: () => deleteVoice(v.id, `Delete the broken voice “${v.id}” and its files? This cannot be undone.`) },
        "Delete")));
}

function renderTags(tags) {
  const select = $("#library-tag");
  const chosen = select.value;
  libraryState.tags = tags;
  select.replaceChildren(el("option", { value: "", text: "All tags" }), ...tags.map((t) => el("option", { value: t, text: t })));
  select.value = tags.includes(chosen) ? chosen : "";
  $("#library-delete-tag").disabled = !select.value;
}

function voiceItem(v) {
  const item = el("li", { class: "voice", "data-voice": v.id },
    el("div", { class: "who" },
      el("strong", { text: v.name }),
      el("small", { text: `${v.id} · ${v.language || "language unknown"} · ${fixed(v.seconds, 1)} s` }),
      el("small", { class: "usage", text: usageText(v) }),
      el("small", { text: v.engines.length ? "Spoken by " + v.engines.map((e) => e.split(":")[0]).join(", ")
        : "No running engine speaks it" + (v.transcript ? "" : " (add a transcript for engines that need one)") }),
      v.tags.length ? el("span", { class: "tags" }, v.tags.map((t) => el("button", {
        type: "button", class: "tag", "data-action": `tag ${t}`, "aria-label": `Show the voices tagged ${t}`,
        onclick: () => showTag(t) }, t))) : null,
      v.notes ? el("small", { class: "notes", text: v.notes }) : null),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "small", "data-action": "preview", disabled: !v.engines.length,
        "aria-label": `Preview ${v.name}`, onclick: () => preview(v) }, "▶ Preview"),
      el("button", { type: "button", class: "small", "data-action": "edit", "aria-label": `Edit ${v.name}`,
        "aria-expanded": "false", onclick: (ev) => toggleEdit(v, item, ev.currentTarget) }, "Edit"),
      el("button", { type: "button", class: "small", "data-action": "export", "aria-label": `Export ${v.name}`,
        onclick: () => exportVoices([v.id], `voxhost-voice-${v.name.replace(/[^\w.-]+/g, "_")}.zip`) }, "Export"),
      el("button", { type: "button", class: "small danger", "data-action": "delete", "aria-label": `Delete ${v.name}`,
        onclick: () => removeVoice(v) }, "Delete")));
  return item;
}

function showTag(tag) {
  $("#library-tag").value = tag;
  $("#library-delete-tag").disabled = !tag; // at once, not when the list comes back
  libraryState.shown = libraryState.step;
  refreshLibrary();
}

// -- edit: metadata, and optionally a new recording ------------------------------------------------------------

function toggleEdit(v, item, button) {
  const open = item.querySelector("form.edit");
  if (open) { open.remove(); button.setAttribute("aria-expanded", "false"); return; }
  button.setAttribute("aria-expanded", "true");
  const id = (name) => `edit-${name}-${v.id}`;
  const field = (name, label, control) => el("div", { class: "field" }, el("label", { for: id(name), text: label }), control);
  const status = el("p", { class: "status-line", role: "status" });
  const form = el("form", { class: "edit", "aria-label": `Edit ${v.name}` },
    field("name", "Name", el("input", { id: id("name"), required: true, maxlength: 64, value: v.name })),
    field("language", "Language", el("input", { id: id("language"), value: v.language || "", placeholder: "e.g. en, de_DE",
      autocomplete: "off", spellcheck: "false" })),
    field("transcript", "Transcript", el("textarea", { id: id("transcript"), rows: 2 }, v.transcript || "")),
    field("tags", "Tags (comma-separated)", el("input", { id: id("tags"), value: v.tags.join(", "), autocomplete: "off" })),
    field("notes", "Notes", el("textarea", { id: id("notes"), rows: 2 }, v.notes || "")),
    field("audio", "New recording (optional)", el("input", { id: id("audio"), type: "file",
      accept: "audio/*,.wav,.flac,.ogg,.mp3,.m4a,.webm" })),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary small" }, "Save"),
      el("button", { type: "button", class: "small", onclick: () => toggleEdit(v, item, button) }, "Cancel")),
    status);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    status.classList.remove("bad");
    status.textContent = "Saving…";
    const text = (name) => $("#" + CSS.escape(id(name))).value.trim();
    const body = {
      name: text("name"),
      language: text("language") || null,
      transcript: text("transcript") || null,
      tags: text("tags").split(",").map((t) => t.trim()).filter(Boolean),
      notes: text("notes") || null,
    };
    try {
      await api(`/v1/audio/voices/${encodeURIComponent(v.id)}`, {
        method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const file = $("#" + CSS.escape(id("audio"))).files[0];
      if (file) {
        const upload = new FormData();
        upload.append("audio_sample", file, file.name);
        await api(`/v1/audio/voices/${encodeURIComponent(v.id)}/audio`, { method: "PUT", body: upload });
      }
      form.remove(); // saved: the item is drawn again from what was stored
      await Promise.all([refreshLibrary(v.id), refreshVoices()]);
    } catch (err) {
      status.classList.add("bad");
      status.textContent = "Not saved: " + err.message;
    }
  });
  item.append(form);
  $("input", form).focus();
}

// -- preview and delete ----------------------------------------------------------------------------------------

let previewAbort = null;
const previewUi = { box: $("#preview-result"), status: $("#preview-status"), audio: $("#preview-player") };
async function preview(voice) {
  if (previewAbort) previewAbort.abort();
  const mine = previewAbort = new AbortController();
  await speak({ voice: voice.id, input: "Hello! This is my new voice. How do I sound?",
    ...(voice.language ? { language: voice.language } : {}) }, previewUi, mine.signal);
  if (previewAbort === mine) previewAbort = null; // a later preview's, which the next press must still stop
}

async function removeVoice(voice) {
  await deleteVoice(voice.id, `Delete the voice “${voice.name}”? This cannot be undone.`);
}

async function deleteVoice(id, question) {
  if (!confirm(question)) return;
  // The focus was on the Delete button, which goes with the voice: a keyboard was left at the top of the page.
  // The voice after it (or before it) takes the focus; with none left, the search box.
  const items = [...document.querySelectorAll("#library-broken-list > li[data-broken], #library > li[data-voice]")];
  const at = items.findIndex((li) => (li.dataset.voice || li.dataset.broken) === id);
  const near = at < 0 ? null : items[at + 1] || items[at - 1];
  try {
    await api(`/v1/audio/voices/${encodeURIComponent(id)}`, { method: "DELETE" });
  } catch (err) {
    notice("Could not delete: " + err.message);
    // Refused or failed, the voice is still there (unless it was gone already, 404): the focus stays on its Delete
    // (it went to the next voice, as if this one were gone), and the alert above says why.
    if (err.status !== 404) {
      await Promise.all([refreshLibrary(id, "delete"), refreshVoices()]);
      return;
    }
  }
  await Promise.all([refreshLibrary(near ? near.dataset.voice || near.dataset.broken : id), refreshVoices()]);
}

// -- export, import, delete many -------------------------------------------------------------------------------

function toolsStatus(text, bad = false) {
  const status = $("#library-tools-status");
  status.classList.toggle("bad", bad);
  status.textContent = text;
}

async function exportVoices(ids, name) {
  try {
    const blob = await (await api("/v1/library/export" + queryString({ ids: ids ? ids.join(",") : "" }))).blob();
    saveBlob(blob, name);
    toolsStatus(`Exported ${ids ? ids.length : "every"} voice${ids && ids.length === 1 ? "" : "s"}.`);
  } catch (err) {
    notice("Could not export: " + err.message);
  }
}

$("#library-export").addEventListener("click", () =>
  exportVoices(null, `voxhost-voices-${new Date().toISOString().slice(0, 10)}.zip`));

$("#library-import").addEventListener("click", async () => {
  const file = $("#library-import-file").files[0];
  if (!file) { toolsStatus("Choose an archive first.", true); return; }
  const form = new FormData();
  form.append("archive", file, file.name);
  form.append("duplicates", $("#library-duplicates").value);
  toolsStatus("Checking and importing…");
  try {
    const result = await (await api("/v1/library/import", { method: "POST", body: form })).json();
    const added = result.imported.length - result.replaced.length;
    toolsStatus(`Imported ${added} new voice${added === 1 ? "" : "s"}` +
      (result.replaced.length ? `, replaced ${result.replaced.length}` : "") +
      (result.skipped.length ? `, kept ${result.skipped.length} already here` : "") + ".");
    $("#library-import-file").value = "";
    await Promise.all([refreshLibrary(), refreshVoices()]);
  } catch (err) {
    toolsStatus("Nothing imported: " + err.message, true);
  }
});

$("#library-delete-tag").addEventListener("click", async () => {
  const tag = $("#library-tag").value;
  if (!tag) return;
  const url = "/v1/library/voices/delete";
  const post = (confirmed) => api(url, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tag, confirm: confirmed }) }).then((r) => r.json());
  try {
    const dry = await post(false);
    if (!dry.matched.length) { toolsStatus(`No voice is tagged “${tag}”.`); return; }
    if (!confirm(`Delete the ${dry.matched.length} voice(s) tagged “${tag}”? This cannot be undone.`)) return;
    const done = await post(true);
    toolsStatus(`Deleted ${done.deleted.length} voice(s) tagged “${tag}”.`);
    $("#library-tag").value = "";
    await Promise.all([refreshLibrary(), refreshVoices()]);
  } catch (err) {
    toolsStatus("Not deleted: " + err.message, true);
  }
});

// -- search ------------------------------------------------------------------------------------------------------

let librarySearchTimer = null;
$("#library-q").addEventListener("input", () => {
  clearTimeout(librarySearchTimer);
  librarySearchTimer = setTimeout(() => { libraryState.shown = libraryState.step; refreshLibrary(); }, 250);
});
$("#library-search").addEventListener("submit", (ev) => { ev.preventDefault(); refreshLibrary(); });
$("#library-tag").addEventListener("change", () => {
  $("#library-delete-tag").disabled = !$("#library-tag").value;
  libraryState.shown = libraryState.step;
  refreshLibrary();
});
$("#library-more").addEventListener("click", () => { libraryState.shown += libraryState.step; refreshLibrary(); });
