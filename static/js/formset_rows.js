// "Add a row" on the note forms: copy the formset's empty row and count it in TOTAL_FORMS.
// A file, not an inline script, so the Content-Security-Policy can refuse every inline script.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-add-row]");
  if (!button) { return; }
  const prefix = button.dataset.addRow;
  const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  const index = Number(total.value);
  const row = document.getElementById(prefix + "-empty-row").innerHTML.replaceAll("__prefix__", String(index));
  document.getElementById(prefix + "-rows").insertAdjacentHTML("beforeend", row);
  total.value = String(index + 1);
});
