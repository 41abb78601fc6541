// The new-series form: the MRN box belongs to an individual series, the capacity to a group.
// A file, not an inline script, so the Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  const form = document.getElementById("series-form");
  if (!form) { return; }
  const patient = document.getElementById("div_id_patient");
  const capacity = document.getElementById("div_id_max_capacity");

  function show() {
    const checked = form.querySelector('input[name="session_type"]:checked');
    const individual = checked !== null && checked.value === "individual";
    if (patient) { patient.hidden = !individual; }
    if (capacity) { capacity.hidden = individual; }
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "session_type") { show(); }
  });
  show();
})();
