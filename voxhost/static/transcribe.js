// voxhost voice lab: speech-to-text. The Clone tab's transcript fills in from the sample (still editable), and a
// Dictate card on the Try tab records the microphone and shows what was heard. Uses /v1/audio/transcriptions and
// lab.js's api() (the API key) and microphoneButton(); shown only when an engine transcribes (a "transcription"
// model in /v1/models).
"use strict";

(() => {
  const q = (sel) => document.querySelector(sel);
  const post = (form) => api("/v1/audio/transcriptions", { method: "POST", body: form }); // eslint-disable-line no-undef

  function node(tag, attrs = {}, text = "") {
    const out = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) out.setAttribute(k, v);
    if (text) out.textContent = text;
    return out;
  }

  function form(blob, name, language) {
    const data = new FormData();
    data.append("model", "auto");
    data.append("file", blob, name);
    const base = (language || "").trim().split(/[-_]/)[0];
    if (base) data.append("language", base);
    return data;
  }

  // -- Clone: the sample's transcript -------------------------------------------------------------------

  function cloneTranscripts() {
    const sample = q("#clone-sample"), box = q("#clone-transcript");
    if (!sample || !box) return;
    const status = node("span", { id: "clone-transcript-status", class: "hint", role: "status", "aria-live": "polite" });
    box.after(status);
    let asked = 0;
    box.addEventListener("input", () => { box.dataset.heard = ""; }); // edited by hand: never replaced

    async function hear() {
      // The sample lab.js shows: the chosen file, or its recording (lab.js's `recorded`).
      const file = q("#clone-file").files[0];
      const blob = file || (typeof recorded !== "undefined" ? recorded : null); // eslint-disable-line no-undef
      if (!blob) { status.textContent = ""; return; }
      if (box.value.trim() && !box.dataset.heard) return; // the user's own words stay
      const turn = ++asked;
      status.textContent = "Listening to the sample…";
      box.dataset.state = "listening";
      try {
        const reply = await post(form(blob, file ? file.name : "recording.webm", q("#clone-language").value));
        const { text } = await reply.json();
        if (turn !== asked) return;
        box.value = text;
        box.dataset.heard = "1";
        box.dataset.state = "heard";
        status.textContent = text ? "Heard in the sample; correct it if a word is wrong." : "No speech heard.";
      } catch (err) {
        if (turn !== asked) return;
        box.dataset.state = "failed";
        status.textContent = "Could not transcribe: " + err.message;
      }
    }
    // lab.js sets the player's source whenever a file is chosen or a recording ends.
    new MutationObserver(() => { if (sample.getAttribute("src")) hear(); })
      .observe(sample, { attributes: true, attributeFilter: ["src"] });
    q("#clone-form").addEventListener("reset", () => { box.dataset.heard = ""; status.textContent = ""; });
  }

  // -- Try: dictation ----------------------------------------------------------------------------------

  function dictation() {
    const view = q("#view-try");
    if (!view) return;
    const card = node("div", { id: "dictate", class: "card" });
    const title = node("h2", {}, "Dictate");
    const actions = node("div", { class: "actions" });
    const button = node("button", { type: "button", id: "dictate-record", "aria-pressed": "false" }, "● Dictate");
    const status = node("span", { id: "dictate-status", class: "hint", role: "status" });
    actions.append(button, status);
    const label = node("label", { for: "dictate-text", class: "sr-only" }, "What was heard");
    const out = node("textarea", { id: "dictate-text", rows: "3", readonly: "", placeholder: "What you say appears here." });
    card.append(title, actions, label, out);
    view.append(card);

    microphoneButton(button, status, { // eslint-disable-line no-undef
      idle: "● Dictate",
      unavailable: "Recording needs https or localhost.",
      started: () => {
        out.value = "";
        card.dataset.state = "recording";
        status.textContent = "Listening… press Stop when done.";
      },
      done: (blob) => transcribe(blob),
    });

    async function transcribe(blob) {
      card.dataset.state = "transcribing";
      status.textContent = "Transcribing…";
      const data = form(blob, "dictation.webm", q("#language") ? q("#language").value : "");
      data.append("stream", "true");
      try {
        // Server-sent events: one transcript.text.delta per segment as it is recognized, then .done.
        const reader = (await post(data)).body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const line = buffer.slice(0, cut).replace(/^data: /, "");
            buffer = buffer.slice(cut + 2);
            const event = JSON.parse(line);
            if (event.type === "transcript.text.delta") out.value += event.delta;
            else if (event.type === "transcript.text.done") out.value = event.text;
            else if (event.type === "error") throw new Error(event.error.message);
          }
        }
        card.dataset.state = "done";
        status.textContent = out.value.trim() ? "" : "No speech heard.";
      } catch (err) {
        card.dataset.state = "failed";
        status.textContent = "Could not transcribe: " + err.message;
      }
    }
  }

  async function start() {
    try {
      const models = await (await api("/v1/models")).json(); // eslint-disable-line no-undef
      if (!models.data.some((m) => m.kind === "transcription")) return;
    } catch (err) {
      return; // no models list: nothing to offer
    }
    cloneTranscripts();
    dictation();
    document.body.dataset.transcribe = "ready";
  }

  start();
})();
