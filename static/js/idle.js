// Signing out after inactivity (core/session_timeout.py), on every signed-in page.
//
// <body> says where to ask how long the session has left (data-session-status-url); the page
// asks as it starts, then again at each point below. Two minutes before the end, a note being
// edited (its form's data-autosave-url) is saved as a draft on the server, with the version the
// page holds; a minute before, a warning offers "Stay signed in"; at the end the page goes to
// the login. The browser keeps nothing of the note. The page's own requests (the checks, the
// autosave) are background requests, which don't count as activity: only the user's own
// requests and "Stay signed in" do.
// A file, not an inline script, so the Content-Security-Policy refuses every inline script.
(function () {
  "use strict";
  const body = document.body;
  const statusUrl = body.dataset.sessionStatusUrl;
  if (!statusUrl) { return; }

  const WARNING_SECONDS = 60;
  // Seconds before the end when the draft is saved (if it changed since the last save).
  const SAVE_POINTS = [120, 60, 10];
  // Timers fire a little late or early: a point this close counts as reached.
  const SLACK_SECONDS = 3;
  const BACKGROUND = { "X-Background-Request": "1" };

  const warning = document.getElementById("idle-warning");
  const stayButton = document.getElementById("idle-stay");
  const form = document.querySelector("form[data-autosave-url]");
  const autosaveStatus = form ? form.querySelector("[data-autosave-status]") : null;
  let unsaved = form ? form.hasAttribute("data-autosave-unsaved") : false;
  let timer = null;

  function signIn() {
    const next = window.location.pathname + window.location.search;
    window.location.assign(body.dataset.loginUrl + "?next=" + encodeURIComponent(next));
  }

  function later(seconds, action) {
    window.clearTimeout(timer);
    timer = window.setTimeout(action, Math.max(seconds, 1) * 1000);
  }

  // The JSON of an answer; a session that has ended (401, or sent to the login) goes to the login.
  function json(response) {
    if (response.status === 401 || response.redirected) {
      signIn();
      throw new Error("signed out");
    }
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.json();
  }

  function showAutosave(message) {
    if (autosaveStatus) { autosaveStatus.textContent = message; }
  }

  // After a save the note's rows were replaced: the rows on the page are new rows from now on
  // (as the conflict page makes them), so the next save doesn't name rows that are gone.
  function rowsAreNew() {
    form.querySelectorAll("[data-formset]").forEach(function (fieldset) {
      const prefix = fieldset.dataset.formset;
      const initial = form.elements[prefix + "-INITIAL_FORMS"];
      if (initial) { initial.value = "0"; }
      form.querySelectorAll("input[name^='" + prefix + "-'][name$='-id']").forEach(function (input) {
        input.value = "";
      });
    });
  }

  function autosave() {
    if (!form || !unsaved) { return; }
    unsaved = false;
    fetch(form.dataset.autosaveUrl, {
      method: "POST", body: new FormData(form), headers: BACKGROUND, credentials: "same-origin",
    })
      .then(json)
      .then(function (result) {
        if (result.saved) {
          form.elements.version.value = String(result.version);
          rowsAreNew();
        } else {
          unsaved = true;
        }
        showAutosave(result.message);
      })
      .catch(function () { unsaved = true; });
  }

  function plan(secondsLeft) {
    warning.hidden = secondsLeft > WARNING_SECONDS + SLACK_SECONDS;
    if (secondsLeft <= SAVE_POINTS[0] + SLACK_SECONDS) { autosave(); }
    const next = SAVE_POINTS.find(function (point) { return point < secondsLeft - SLACK_SECONDS; });
    later(next === undefined ? secondsLeft + 1 : secondsLeft - next, check);
  }

  function check() {
    fetch(statusUrl, { headers: BACKGROUND, credentials: "same-origin" })
      .then(json)
      .then(function (answer) { plan(answer.seconds_left); })
      .catch(function () { later(SLACK_SECONDS * 10, check); });
  }

  if (form) {
    form.addEventListener("input", function () { unsaved = true; });
    form.addEventListener("change", function () { unsaved = true; });
  }
  stayButton.addEventListener("click", function () {
    const data = new FormData();
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    data.append("csrfmiddlewaretoken", token ? token.value : "");
    fetch(statusUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(json)
      .then(function (answer) { plan(answer.seconds_left); })
      .catch(function () { later(SLACK_SECONDS, check); });
  });
  check();
}());
