// The kiosk screen: draws the state the server sends (server-sent events) and posts the
// customer's touches. It keeps nothing of a call: every entry is sent key by key as the phone
// keypad sends it and shown as the server masks it; when the session ends the page reloads
// itself (no history entry), so nothing of the customer stays in its memory.
"use strict";

history.replaceState(null, "", "/");
let phase = null;
let ui = {};
const $ = (id) => document.getElementById(id);

function post(action, value) {
  fetch("/api/" + action, {
    method: "POST", cache: "no-store",
    headers: {"Content-Type": "application/json", "X-Kiosk": "1"},
    body: JSON.stringify({value: value === undefined ? null : value}),
  }).catch(() => {});
}

function button(label, cls, onClick) {
  const b = document.createElement("button");
  b.textContent = label;
  b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

function fill(parent, children) {
  parent.replaceChildren(...children);
}

function render(s) {
  ui = s.ui;
  document.documentElement.lang = s.lang;
  $("repeat").textContent = ui.repeat;
  $("slower").textContent = ui.slower;
  $("contrast").textContent = ui.contrast;
  $("large").textContent = ui.large;
  $("start-over").textContent = ui.start_over;
  $("start").textContent = ui.start;
  $("welcome-text").textContent = ui.welcome;
  $("entry-label").textContent = ui.entry;
  $("key-clear").setAttribute("aria-label", ui.clear);
  $("key-enter").setAttribute("aria-label", ui.enter);
  const langs = s.languages.map((l) => {
    const b = button(l.name, l.code === s.lang ? "lang current" : "lang", () => post("language", l.code));
    b.lang = l.code;
    return b;
  });
  fill($("languages"), langs);
  fill($("welcome-languages"), s.languages.map((l) => {
    const b = button(l.name, "big lang", () => post("language", l.code));
    b.lang = l.code;
    return b;
  }));
  const inCall = s.phase !== "welcome";
  $("welcome").hidden = inCall;
  $("call").hidden = !inCall;
  for (const id of ["repeat", "slower", "start-over"]) $(id).hidden = !inCall;
  $("notice").hidden = !s.notice;
  $("notice").textContent = s.notice || "";
  $("warning").hidden = !s.warning;
  $("warning").textContent = s.warning || "";
  fill($("captions"), s.captions.map((c) => {
    const li = document.createElement("li");
    li.className = c.who;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = c.who === "agent" ? ui.agent : ui.you;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = c.text;
    li.append(who, text);
    return li;
  }));
  latest();
  const choices = s.question ? s.question.choices : [];
  fill($("choices"), choices.map((c) => {
    const b = button("", "choice", () => post("choose", c.keys));
    const k = document.createElement("span");
    k.className = "key";
    k.textContent = c.key;
    const t = document.createElement("span");
    t.textContent = c.label;
    b.append(k, t);
    b.dataset.key = c.key;
    return b;
  }));
  fill($("facts"), s.facts.map((f) => {
    const p = document.createElement("p");
    p.textContent = f;
    return p;
  }));
  $("entry").textContent = s.entry;
  $("pad").classList.toggle("secret", !!(s.question && s.question.secret));
  $("code").hidden = !s.code;
  $("code-label").textContent = s.code ? ui.code : "";
  $("code-text").textContent = s.code ? s.code.text : "";
  if (s.code) $("code-qr").src = s.code.qr; else $("code-qr").removeAttribute("src");
  document.body.classList.toggle("speaking", !!s.speaking);
}

function latest() {        // the newest caption in view
  const list = $("captions");
  list.scrollTop = list.scrollHeight;
}

function toggle(id, cls) {
  const on = document.body.classList.toggle(cls);
  $(id).setAttribute("aria-pressed", on ? "true" : "false");
  latest();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("#keypad button")) {
    b.addEventListener("click", () => post("press", b.dataset.key));
  }
  for (const id of ["repeat", "slower"]) {
    $(id).addEventListener("click", () => post("command", $(id).dataset.command));
  }
  $("start").addEventListener("click", () => post("start"));
  $("start-over").addEventListener("click", () => post("start_over"));
  $("contrast").addEventListener("click", () => toggle("contrast", "contrast"));
  $("large").addEventListener("click", () => toggle("large", "large"));
  document.addEventListener("pointerdown", () => post("touch"));
  const events = new EventSource("/events");
  events.onmessage = (e) => {
    const s = JSON.parse(e.data);
    if (phase !== null && phase !== "welcome" && s.phase === "welcome") {
      events.close();
      location.replace("/");      // the next customer gets a fresh page
      return;
    }
    phase = s.phase;
    render(s);
  };
});
