// The pages' own script, loaded from this server (the page policy allows no other). Every page
// works without it; it only adds conveniences.
"use strict";

// A textarea with data-max counts down the characters left into the element its
// aria-describedby names.
for (const area of document.querySelectorAll("textarea[data-max]")) {
  const counter = document.getElementById(area.getAttribute("aria-describedby"));
  if (!counter) continue;
  const template = counter.dataset.template || "{n}";
  const update = () => {
    counter.textContent = template.replace("{n}", String(Number(area.dataset.max) - area.value.length));
  };
  area.addEventListener("input", update);
  update();
}

// Actions on a post (boost, favourite, bookmark) are forms that work alone; here they are
// sent in place: the same POST, with a header asking for the post's buttons as they now are
// (server/web/actions.py), which replace the old ones, and the focus goes back to the button
// pressed. Any failure falls back to the form's own submission.
const IN_PLACE = "Rounds-In-Place";

async function sendInPlace(form, submitter) {
  const container = form.closest(".actions");
  const kind = submitter ? submitter.dataset.kind : "";
  const response = await fetch(form.action, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    headers: { [IN_PLACE]: "1" },
    credentials: "same-origin",
    redirect: "error",
  });
  if (!response.ok) throw new Error(`answered ${response.status}`);
  const html = await response.text();
  container.innerHTML = html;
  const again = kind && container.querySelector(`button[data-kind="${kind}"]`);
  if (again) again.focus();
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches(".actions form.action")) return;
  event.preventDefault();
  const submitter = event.submitter;
  if (form.dataset.busy) return;
  form.dataset.busy = "1";
  sendInPlace(form, submitter).catch(() => form.submit()).finally(() => { delete form.dataset.busy; });
});

// Live updates: the newest page of home, local or federated (its section has data-live)
// listens to the server's events (server/web/live.py) and puts each new post, rendered by the
// server, at the top; an edited post is replaced where it is, a deleted one removed.
const timeline = document.querySelector("#timeline[data-live]");
if (timeline && window.EventSource) {
  const source = new EventSource(timeline.dataset.live);
  source.addEventListener("open", () => { timeline.dataset.connected = "true"; });
  const fromHtml = (html) => {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  };
  const list = () => {
    let ol = timeline.querySelector("ol.timeline");
    if (!ol) {
      ol = document.createElement("ol");
      ol.className = "timeline";
      const empty = document.getElementById("empty");
      if (empty) empty.replaceWith(ol); else timeline.prepend(ol);
    }
    return ol;
  };
  source.addEventListener("update", (event) => {
    const item = fromHtml(event.data);
    const article = item && item.querySelector("article.status");
    if (!article || document.getElementById(article.id)) return;
    list().prepend(item);
    const news = document.getElementById("live-news");  // said by screen readers, politely
    const author = article.querySelector(".author");
    if (news && author) news.textContent = (news.dataset.template || "{name}").replace("{name}", author.textContent);
  });
  source.addEventListener("status.update", (event) => {
    const item = fromHtml(event.data);
    const article = item && item.querySelector("article.status");
    const old = article && document.getElementById(article.id);
    if (old) old.replaceWith(article);
  });
  source.addEventListener("delete", (event) => {
    const old = document.getElementById(`status-${event.data}`);
    if (old && old.parentElement) old.parentElement.remove();
  });
}
