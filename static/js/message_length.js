// The message template editor (appointments/reminders/admin.py): under each subject and body,
// its length as a family's phone counts it, updated while typing. The text is measured filled
// in with a typical family's values (data-sample, from appointments.reminders.messages), with
// the rule of message_length() there: GSM-7 160 to one SMS and 153 to each part, extension
// characters taking two; any other character (Arabic) makes it UCS-2, 70 and 67. A file, not
// an inline script, so the Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const GSM_EXTENSION = "^{}\\[~]|€\f";

  function segments(units, single, part) {
    if (units === 0) { return 0; }
    return units <= single ? 1 : Math.ceil(units / part);
  }

  function measure(text) {
    const characters = Array.from(text);
    const gsm = characters.every(function (c) {
      return GSM_BASIC.includes(c) || GSM_EXTENSION.includes(c);
    });
    if (gsm) {
      const septets = characters.reduce(function (n, c) { return n + (GSM_EXTENSION.includes(c) ? 2 : 1); }, 0);
      return { characters: characters.length, segments: segments(septets, 160, 153) };
    }
    // UCS-2: a character outside the basic plane (an emoji) is two code units, as in text.length.
    return { characters: characters.length, segments: segments(text.length, 70, 67) };
  }

  function attach(field) {
    const form = field.closest("form");
    const channel = form ? form.querySelector('select[name="channel"]') : null;
    const sample = JSON.parse(field.dataset.sample);
    const output = document.createElement("div");
    output.className = "help message-length";
    output.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", output);

    function update() {
      const filled = field.value.replace(/\{([^{}]*)\}/g, function (whole, name) {
        return Object.prototype.hasOwnProperty.call(sample, name) ? sample[name] : whole;
      });
      const length = measure(filled);
      let text = field.dataset.labelCharacters + ": " + length.characters;
      if (!channel || channel.value === "sms") {
        text += " · " + field.dataset.labelSegments + ": " + length.segments;
      }
      output.textContent = text;
    }

    field.addEventListener("input", update);
    if (channel) { channel.addEventListener("change", update); }
    update();
  }

  // The admin puts its media in <head>: wait for the form below it.
  function attachAll() {
    document.querySelectorAll("[data-message-length]").forEach(attach);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", attachAll);
  } else {
    attachAll();
  }
})();
