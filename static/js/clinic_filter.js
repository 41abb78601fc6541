// Booking forms: the provider and room lists offer only those of the clinic chosen. Their options
// name their clinics (core.form_fields.ClinicOptionsSelect, data-clinics="3 7"); a choice the new
// clinic doesn't have is cleared. The server refuses a provider or room of another clinic anyway.
// A file, not an inline script, so the Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";

  function narrow(select, clinic) {
    Array.prototype.forEach.call(select.options, function (option) {
      const clinics = option.dataset.clinics;
      if (clinics === undefined) { return; }  // the empty choice
      const fits = !clinic || clinics.split(" ").indexOf(clinic) !== -1;
      option.hidden = !fits;
      option.disabled = !fits;
    });
    const selected = select.selectedOptions[0];
    if (selected && selected.disabled) { select.value = ""; }
  }

  document.querySelectorAll("form").forEach(function (form) {
    const clinic = form.querySelector("select[name=clinic]");
    const lists = form.querySelectorAll("select[data-clinic-options]");
    if (!clinic || lists.length === 0) { return; }
    function update() {
      lists.forEach(function (select) { narrow(select, clinic.value); });
    }
    clinic.addEventListener("change", update);
    update();
  });
})();
