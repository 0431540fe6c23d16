// The text each job actually spoke, from `job_sentence` events: in the Watch tab, hover a job's row to read it,
// click the row (or press Enter on it) to expand the sentences under it, each with what was written.
(() => {
  "use strict";
  const sentences = new Map(); // job id → [{ sentence, text, source, language }]
  const apiKey = () => localStorage.getItem("voxhost.api_key") || "";

  const rowOf = (id) => document.querySelector(`#jobs tr[data-job="${CSS.escape(id)}"]`);

  function detailOf(row) {
    const next = row.nextElementSibling;
    return next && next.classList.contains("spoken") ? next : null;
  }

  function list(items) {
    const ol = document.createElement("ol");
    ol.className = "spoken-sentences";
    for (const s of items) {
      const li = document.createElement("li");
      li.value = s.sentence + 1;
      const said = document.createElement("span");
      said.className = "said";
      said.textContent = s.text;
      li.append(said);
      if (s.source !== s.text) {
        const written = document.createElement("small");
        written.className = "hint written";
        written.textContent = " written: " + s.source;
        li.append(written);
      }
      if (s.language) li.lang = s.language.replace("_", "-");
      ol.append(li);
    }
    return ol;
  }

  function render(id) {
    const row = rowOf(id);
    const items = sentences.get(id);
    if (!row || !items) return;
    row.title = "Spoken:\n" + items.map((s) => `${s.sentence + 1}. ${s.text}`).join("\n");
    if (!row.classList.contains("has-spoken")) {
      row.classList.add("has-spoken");
      row.tabIndex = 0;
      row.setAttribute("aria-expanded", "false");
    }
    const detail = detailOf(row);
    if (detail) detail.firstElementChild.replaceChildren(list(items));
  }

  function toggle(row) {
    const id = row.dataset.job;
    const items = sentences.get(id);
    if (!items) return;
    let detail = detailOf(row);
    if (detail) {
      detail.remove();
      row.setAttribute("aria-expanded", "false");
      return;
    }
    detail = document.createElement("tr");
    detail.className = "spoken";
    detail.dataset.spokenFor = id;
    const cell = document.createElement("td");
    cell.colSpan = row.cells.length || 8;
    cell.append(list(items));
    detail.append(cell);
    row.after(detail);
    row.setAttribute("aria-expanded", "true");
  }

  function onEvent(ev) {
    if (ev.event !== "job_sentence") return;
    const items = sentences.get(ev.job_id) || [];
    items.push(ev);
    items.sort((a, b) => a.sentence - b.sentence);
    sentences.set(ev.job_id, items);
    if (sentences.size > 100) sentences.delete(sentences.keys().next().value);
    render(ev.job_id);
  }

  function start() {
    const body = document.querySelector("#jobs tbody");
    if (!body) return;
    // lab.js makes a job's row when its first event arrives, which may be after this job's first sentence.
    new MutationObserver(() => {
      for (const row of body.querySelectorAll("tr[data-job]:not(.has-spoken)")) render(row.dataset.job);
    }).observe(body, { childList: true });
    body.addEventListener("click", (e) => {
      const row = e.target.closest("tr.has-spoken");
      if (row) toggle(row);
    });
    body.addEventListener("keydown", (e) => {
      const row = e.target.closest("tr.has-spoken");
      if (row && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); toggle(row); }
    });
    let source = null;
    const connect = () => {
      if (source) source.close();
      const key = apiKey();
      source = new EventSource("/v1/events" + (key ? "?api_key=" + encodeURIComponent(key) : ""));
      source.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (err) { console.error("bad event", err); } };
    };
    connect();
    window.addEventListener("storage", (e) => { if (e.key === "voxhost.api_key") connect(); });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && source && source.readyState === EventSource.CLOSED) connect();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
