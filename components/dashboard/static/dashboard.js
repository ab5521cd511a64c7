// Stratus dashboard: the few live parts, driven by data attributes (no build step).
//   form[data-confirm="Delete vm1?"]   asks before submitting.
//   [data-live-url="/…/events"]        server-sent events replace rows: event "row"
//                                      {id, html} replaces #row-<id>; "gone" {id} removes it.
//   [data-poll-url="/…"]               refetches its text every data-poll-seconds (default 2)
//                                      until the answer has the header X-Poll-Done.
//   form[data-upload]                  posts the form (fetch), then PUTs the chosen file to
//                                      the upload_url the answer names, showing progress in
//                                      the form's <progress>, then goes to data-done-url.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function announce(text, kind) {
  const box = document.querySelector(".flashes");
  if (!box) return;
  const p = document.createElement("p");
  p.className = "flash " + (kind || "error");
  p.textContent = text;
  box.appendChild(p);
}

function confirmForms() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
}

function liveRows() {
  document.querySelectorAll("[data-live-url]").forEach((holder) => {
    const source = new EventSource(holder.dataset.liveUrl);
    source.addEventListener("row", (event) => {
      const data = JSON.parse(event.data);
      const row = document.getElementById("row-" + data.id);
      if (row) {
        row.outerHTML = data.html;
      }
    });
    source.addEventListener("gone", (event) => {
      const row = document.getElementById("row-" + JSON.parse(event.data).id);
      if (row) row.remove();
    });
    source.addEventListener("done", () => source.close());
    window.addEventListener("pagehide", () => source.close());
  });
}

function polls() {
  document.querySelectorAll("[data-poll-url]").forEach((element) => {
    const seconds = Number(element.dataset.pollSeconds || 2);
    const tick = async () => {
      try {
        const reply = await fetch(element.dataset.pollUrl, {
          headers: { "X-Requested-With": "fetch" },
          credentials: "same-origin",
        });
        if (reply.ok) {
          element.textContent = await reply.text();
          if (reply.headers.get("X-Poll-Done")) return;
        }
      } catch (error) {
        // the next tick tries again
      }
      window.setTimeout(tick, seconds * 1000);
    };
    window.setTimeout(tick, seconds * 1000);
  });
}

function uploads() {
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = form.querySelector('input[type="file"]').files[0];
      const progress = form.querySelector("progress");
      const status = form.querySelector(".upload-status");
      const button = form.querySelector('button[type="submit"]');
      if (!file) {
        status.textContent = "Choose a file to upload.";
        return;
      }
      button.disabled = true;
      status.textContent = "Creating…";
      const created = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { "X-Requested-With": "fetch", "X-CSRF-Token": csrfToken() },
        credentials: "same-origin",
      });
      if (!created.ok) {
        status.textContent = await created.text();
        button.disabled = false;
        return;
      }
      const { upload_url: uploadUrl } = await created.json();
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", uploadUrl);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("X-Requested-With", "fetch");
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) {
          progress.max = e.total;
          progress.value = e.loaded;
          status.textContent = `Uploaded ${Math.round((100 * e.loaded) / e.total)}%`;
        }
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          progress.value = progress.max;
          status.textContent = "Upload complete.";
          window.location.assign(form.dataset.doneUrl || window.location.pathname);
        } else {
          status.textContent = xhr.responseText || `Upload failed (${xhr.status})`;
          button.disabled = false;
        }
      });
      xhr.addEventListener("error", () => {
        status.textContent = "The upload was interrupted.";
        button.disabled = false;
      });
      status.textContent = "Uploading…";
      xhr.send(file);
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  confirmForms();
  liveRows();
  polls();
  uploads();
});
