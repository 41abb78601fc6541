// The clearance queue: "select every row on this page" ticks or unticks each row's box, and
// shows itself ticked, unticked or in between as the rows are ticked one by one.
// A file, not an inline script, so the Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  const all = document.getElementById("clearance-select-all");
  const form = document.getElementById("clearance-form");
  if (!all || !form) { return; }

  function boxes() {
    return Array.from(form.querySelectorAll('input[name="rows"]'));
  }

  function follow() {
    const ticked = boxes().filter(function (box) { return box.checked; }).length;
    all.checked = ticked > 0 && ticked === boxes().length;
    all.indeterminate = ticked > 0 && ticked < boxes().length;
  }

  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "rows") { follow(); }
  });
  follow();
})();
