// The booking forms' patient picker: the MRN box (core.form_fields.PatientPickerInput) becomes an
// ARIA 1.2 combobox with a list of the children found by name (English or Arabic), MRN or phone.
// Choosing one puts their MRN in the box and says their name under it. Without this script the
// box stays a plain MRN box, so typing an MRN and submitting works either way.
// A file, not an inline script, so the Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  const DEBOUNCE_MS = 200;
  const PLURALS = new Intl.PluralRules(document.documentElement.lang || "en");

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, key) {
      return key in values ? String(values[key]) : match;
    });
  }

  function enhance(input) {
    const data = input.dataset;
    const minimum = Number(data.pickerMin) || 2;
    const maximum = Number(data.pickerMax) || 20;
    const listId = input.id + "-picker-list";

    // The list and the live region follow the box as its siblings (Bootstrap shows a field's error
    // as a later sibling of its box); the list drops down over the page. The live region, shown
    // under the box, says how many children were found, then which one was chosen.
    const list = document.createElement("ul");
    list.id = listId;
    list.className = "patient-picker-list list-group shadow";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", data.pickerLabel);
    list.hidden = true;

    const status = document.createElement("div");
    status.id = input.id + "-picker-status";
    status.className = "form-text";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    input.parentNode.classList.add("position-relative");
    input.after(list, status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    if (data.pickerPlaceholder && !input.placeholder) { input.placeholder = data.pickerPlaceholder; }

    let results = [];
    let active = -1;
    let timer = null;
    let asked = 0;  // the number of the latest search: older answers arriving late are dropped

    function announce(text) { status.textContent = text; }

    function countText(count) {
      if (count === 0) { return data.pickerNone; }
      if (count >= maximum) { return fill(data.pickerFirst, { count: count }); }
      // data-picker-count-few is dataset.pickerCountFew: the plural category, capitalised.
      const category = PLURALS.select(count);
      const template = data["pickerCount" + category.charAt(0).toUpperCase() + category.slice(1)];
      return fill(template || data.pickerCountOther, { count: count });
    }

    function setActive(index) {
      const options = list.children;
      if (active >= 0 && options[active]) {
        options[active].classList.remove("active");
        options[active].setAttribute("aria-selected", "false");
      }
      active = index;
      if (active < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      const option = options[active];
      option.classList.add("active");
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    function close() {
      setActive(-1);
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function open() {
      if (results.length === 0) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function option(patient, index) {
      const item = document.createElement("li");
      item.id = listId + "-" + index;
      item.className = "list-group-item list-group-item-action";
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.dataset.mrn = patient.mrn;
      const name = document.createElement("bdi");
      name.className = "fw-semibold";
      name.textContent = patient.name;
      item.appendChild(name);
      if (patient.name_other) {
        const other = document.createElement("bdi");
        other.className = "ms-2";
        other.textContent = patient.name_other;
        item.appendChild(other);
      }
      const details = document.createElement("div");
      details.className = "small";
      // MRNs and phone numbers read left to right on an Arabic page too ("+966...", not "...966+").
      const parts = [[patient.mrn, "ltr"], [fill(data.pickerBorn, { date: patient.date_of_birth }), "auto"]];
      if (patient.phone) { parts.push([patient.phone, "ltr"]); }
      parts.forEach(function (part, position) {
        if (position > 0) { details.appendChild(document.createTextNode(" · ")); }
        const piece = document.createElement("bdi");
        piece.textContent = part[0];
        piece.dir = part[1];
        details.appendChild(piece);
      });
      item.appendChild(details);
      return item;
    }

    function show(found) {
      results = found;
      active = -1;
      input.removeAttribute("aria-activedescendant");
      list.replaceChildren(...found.map(option));
      announce(countText(found.length));
      if (found.length) { open(); } else { close(); }
    }

    function choose(index) {
      const patient = results[index];
      if (!patient) { return; }
      input.value = patient.mrn;
      close();
      announce(fill(data.pickerChosen, { name: patient.name }));
    }

    function search() {
      const query = input.value.trim();
      const number = ++asked;
      if (query.length < minimum) {
        results = [];
        list.replaceChildren();
        close();
        announce("");
        return;
      }
      const url = data.patientPicker + "?" + new URLSearchParams({ q: query }).toString();
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (answer) {
          if (number === asked) { show(answer.results); }
        })
        .catch(function () {
          if (number === asked) {
            show([]);
            announce(data.pickerFailed);
          }
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      const count = results.length;
      const expanded = !list.hidden;
      switch (event.key) {
        case "ArrowDown":
          if (!count) { return; }
          event.preventDefault();
          open();
          setActive(event.altKey ? active : (active + 1) % count);
          break;
        case "ArrowUp":
          if (!count) { return; }
          event.preventDefault();
          open();
          setActive(active <= 0 ? count - 1 : active - 1);
          break;
        case "Home":
        case "End":
          // In the list, the first or last child; otherwise the caret moves in the box as usual.
          if (!expanded || active < 0) { return; }
          event.preventDefault();
          setActive(event.key === "Home" ? 0 : count - 1);
          break;
        case "Enter":
          // Choosing a child never submits the form; with no child highlighted, Enter submits.
          if (!expanded || active < 0) { return; }
          event.preventDefault();
          choose(active);
          break;
        case "Escape":
          if (!expanded) { return; }
          event.preventDefault();
          close();
          break;
        default:
          break;
      }
    });

    // mousedown would move the focus out of the box (and close the list) before the click.
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      const item = event.target.closest("[role=option]");
      if (item) { choose(Array.prototype.indexOf.call(list.children, item)); }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("input[data-patient-picker]").forEach(enhance);
})();
