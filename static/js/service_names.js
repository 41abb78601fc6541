// Booking forms: the service-name suggestions (core/service_names.py, ServiceNameInput) of the
// chosen clinic's specialty, with those for every clinic. Each <datalist> names the specialty of
// each clinic of the form (data-clinic-specialties) and of each name (data-specialty, blank for
// every clinic). No clinic chosen: every name. A file, not an inline script, so the
// Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  document.querySelectorAll("datalist[data-clinic-specialties]").forEach(function (list) {
    const form = list.closest("form");
    const clinic = form ? form.querySelector('select[name="clinic"]') : null;
    if (!clinic) { return; }
    const specialties = JSON.parse(list.dataset.clinicSpecialties);
    const names = Array.from(list.options);

    function narrow() {
      const specialty = specialties[clinic.value];
      list.replaceChildren.apply(list, names.filter(function (option) {
        return !specialty || !option.dataset.specialty || option.dataset.specialty === specialty;
      }));
    }

    clinic.addEventListener("change", narrow);
    narrow();
  });
})();
