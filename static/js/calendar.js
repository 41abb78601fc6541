// The week calendar (appointments/calendar_views.py), drawn by FullCalendar.
//
// The page's settings come from its json_script (#calendar-config): a file, not an inline
// script, so the Content-Security-Policy refuses every inline script. Times are the
// installation's wall-clock times: the calendar runs in UTC mode and the feed's times carry no
// offset, so no browser's own time zone shifts them. Titles are plain text (FullCalendar sets
// them as text); this file never builds HTML from what the server sends.
//
// Clicking a free slot offers the two booking forms, prefilled through their query strings.
// Dragging a session asks for confirmation in a dialog, then posts the new day and time; a move
// the server refuses is put back, with the server's reason in an alert.
(function () {
  "use strict";

  // FullCalendar adds its rules one by one to the page's <style data-fullcalendar>, making one
  // when there is none, as soon as its file runs. Among them is its icon font, a data: address
  // that the policy's default-src refuses: Chromium reports a violation as soon as the rule is
  // added, used or not. The buttons here are words (buttonIcons: false), so this file, loaded
  // before FullCalendar's, makes that element and leaves the font's rule out of it.
  const fullCalendarStyles = document.createElement("style");
  fullCalendarStyles.setAttribute("data-fullcalendar", "");
  document.head.prepend(fullCalendarStyles);
  const styleSheet = fullCalendarStyles.sheet;
  const insertRule = styleSheet.insertRule.bind(styleSheet);
  styleSheet.insertRule = function (rule, index) {
    if (/^\s*@font-face/.test(rule)) { return index; }
    return insertRule(rule, Math.min(index, styleSheet.cssRules.length));
  };

  document.addEventListener("DOMContentLoaded", start);

  function start() {
    const element = document.getElementById("week-calendar");
    const configElement = document.getElementById("calendar-config");
    if (!element || !configElement || !window.FullCalendar) { return; }
    const config = JSON.parse(configElement.textContent);

    const statusBox = document.getElementById("calendar-status");
    const errorBox = document.getElementById("calendar-error");
    const moveDialog = document.getElementById("calendar-move-dialog");
    const moveForm = document.getElementById("calendar-move-form");
    const bookDialog = document.getElementById("calendar-book-dialog");
    // The server's clock, ticking in the page: the calendar's "now" (today, the now line).
    const clockOffset = Date.parse(config.now + "Z") - Date.now();
    // Bookings outside the hours (made before hours were set) widen the grid rather than hide.
    let firstMinute = minutesOf(config.slotMinTime);
    let lastMinute = minutesOf(config.slotMaxTime);
    let pendingDrop = null;
    const PRINTED_GRID_MM = 150;

    function minutesOf(text) {
      // "HH:MM[:SS]" or the time part of "YYYY-MM-DDTHH:MM:SS".
      const time = text.length > 8 ? text.slice(11, 16) : text.slice(0, 5);
      return parseInt(time.slice(0, 2), 10) * 60 + parseInt(time.slice(3, 5), 10);
    }

    function clockText(minutes) {
      return String(Math.floor(minutes / 60)).padStart(2, "0") + ":" + String(minutes % 60).padStart(2, "0") + ":00";
    }

    // In UTC mode a Date's UTC fields are the wall-clock day and time.
    function isoDate(date) { return date.toISOString().slice(0, 10); }
    function isoTime(date) { return date.toISOString().slice(11, 16); }

    function notify(box, message) {
      statusBox.hidden = true;
      errorBox.hidden = true;
      box.textContent = message;
      box.hidden = false;
    }

    function json(response) {
      if (response.redirected || response.status === 401) {
        // The session ended: the page reloads into the login.
        window.location.reload();
        throw new Error("signed out");
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }

    function widenFor(events) {
      let first = firstMinute;
      let last = lastMinute;
      events.forEach(function (event) {
        if (event.display === "background") { return; }
        const starts = minutesOf(event.start);
        const ends = event.end.slice(0, 10) === event.start.slice(0, 10) ? minutesOf(event.end) : 24 * 60;
        first = Math.min(first, starts - (starts % 60));
        last = Math.max(last, Math.ceil(ends / 60) * 60);
      });
      if (first !== firstMinute || last !== lastMinute) {
        firstMinute = first;
        lastMinute = last;
        fitPrintedPage();
        calendar.setOption("slotMinTime", clockText(first));
        calendar.setOption("slotMaxTime", clockText(last));
      }
    }

    // Printed, the slots share what a landscape A4 page leaves below the title, legend and
    // day names (static/css/calendar.css uses it under @media print).
    function fitPrintedPage() {
      const slots = Math.max((lastMinute - firstMinute) / 30, 1);
      element.style.setProperty("--cal-print-slot", (PRINTED_GRID_MM / slots).toFixed(2) + "mm");
    }

    function fetchEvents(info, success, failure) {
      const query = new URLSearchParams(config.owner);
      query.set("start", info.startStr.slice(0, 10));
      query.set("end", info.endStr.slice(0, 10));
      fetch(config.feedUrl + "?" + query.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(json)
        .then(function (answer) {
          success(answer.events);
          widenFor(answer.events);
        })
        .catch(function (error) {
          notify(errorBox, config.messages.networkError);
          failure(error);
        });
    }

    function when(date) {
      return calendar.formatDate(date, {
        weekday: "long",
        day: "numeric",
        month: "long",
        year: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        hour12: false,
      });
    }

    function askToMove(info) {
      pendingDrop = info;
      moveForm.elements.scheduled_date.value = isoDate(info.event.start);
      moveForm.elements.scheduled_time.value = isoTime(info.event.start);
      moveForm.elements.reason.value = "";
      moveDialog.querySelector("[data-move-title]").textContent = info.event.title;
      moveDialog.querySelector("[data-move-from]").textContent = when(info.oldEvent.start);
      moveDialog.querySelector("[data-move-to]").textContent = when(info.event.start);
      moveDialog.showModal();
    }

    // Closed without confirming (Cancel, Escape): the session goes back where it was.
    moveDialog.addEventListener("close", function () {
      if (pendingDrop) {
        pendingDrop.revert();
        pendingDrop = null;
      }
    });
    moveDialog.querySelector("[data-move-cancel]").addEventListener("click", function () {
      moveDialog.close();
    });

    moveForm.addEventListener("submit", function (submitted) {
      submitted.preventDefault();
      const drop = pendingDrop;
      pendingDrop = null;
      const body = new FormData(moveForm);
      moveDialog.close();
      if (!drop) { return; }
      fetch(drop.event.extendedProps.moveUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") },
      })
        .then(json)
        .then(function (answer) {
          if (answer.moved) {
            notify(statusBox, answer.message);
            calendar.refetchEvents();
          } else {
            drop.revert();
            notify(errorBox, answer.message);
          }
        })
        .catch(function () {
          drop.revert();
          notify(errorBox, config.messages.networkError);
        });
    });

    function offerBooking(info) {
      const query = new URLSearchParams(config.booking.prefill);
      query.set("scheduled_date", isoDate(info.start));
      query.set("scheduled_time", isoTime(info.start));
      bookDialog.querySelectorAll("[data-book-link]").forEach(function (link) {
        const form = link.dataset.bookLink === "group" ? config.booking.groupUrl : config.booking.individualUrl;
        link.href = form + "?" + query.toString();
      });
      bookDialog.querySelector("[data-book-when]").textContent = when(info.start);
      bookDialog.showModal();
    }

    bookDialog.addEventListener("close", function () { calendar.unselect(); });
    bookDialog.querySelector("[data-book-cancel]").addEventListener("click", function () {
      bookDialog.close();
    });

    // In one provider's or one room's week a slot under a booking or leave is not free; a clinic's
    // week holds several providers side by side, so any slot can still be booked with another.
    const exclusive = !("clinic" in config.owner);

    const calendar = new FullCalendar.Calendar(element, {
      initialView: "timeGridWeek",
      initialDate: config.initialDate,
      now: function () { return new Date(Date.now() + clockOffset); },
      timeZone: "UTC",
      locale: config.locale,
      direction: config.direction,
      firstDay: 0,
      headerToolbar: { start: "prev,next today", center: "title", end: "timeGridWeek,timeGridDay" },
      // Words, not FullCalendar's icon font: the policy loads no font from a data: address.
      buttonIcons: false,
      buttonText: config.buttonText,
      height: "auto",
      allDaySlot: false,
      nowIndicator: true,
      slotDuration: "00:30:00",
      snapDuration: "00:15:00",
      slotMinTime: config.slotMinTime,
      slotMaxTime: config.slotMaxTime,
      slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      dayHeaderFormat: { weekday: "short", day: "numeric", month: "numeric" },
      businessHours: config.businessHours,
      events: fetchEvents,
      editable: config.canBook,
      eventDurationEditable: false,
      eventDrop: askToMove,
      selectable: config.canBook,
      selectMirror: true,
      selectOverlap: !exclusive,
      selectConstraint: config.businessHours ? "businessHours" : undefined,
      selectAllow: function (info) { return isoDate(info.start) === isoDate(new Date(info.end.getTime() - 1)); },
      select: offerBooking,
      eventDidMount: function (info) {
        if (info.event.display !== "background") {
          info.el.title = info.event.extendedProps.statusLabel + ": " + info.event.title;
        }
      },
      datesSet: function (info) {
        // The week shown stays in the address and in the picker, for a reload or another owner.
        const day = isoDate(info.view.currentStart);
        document.querySelectorAll("[data-calendar-date]").forEach(function (input) { input.value = day; });
        const address = new URL(window.location.href);
        address.searchParams.set("date", day);
        window.history.replaceState(null, "", address);
      },
    });
    fitPrintedPage();
    calendar.render();
    // FullCalendar places sessions by measuring the slots: measure again when printing starts and ends.
    window.matchMedia("print").addEventListener("change", function () { calendar.updateSize(); });
  }
})();
