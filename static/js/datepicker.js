// One date input for the whole app: every input[data-datepicker] (registry/widgets.py DateInput) shows and
// accepts DD-MM-YYYY whatever the browser's language, with a calendar (vanillajs-datepicker) in the page's
// language: Indonesian month names, English when the page is in English.
//
// Typing still works: the server reads what is in the field (registry/widgets.py DATE_INPUT_FORMATS).
// A date the clerk typed is read day first (05-01-2027, 5/1/2027, 05.01.2027) or as ISO (2027-01-05), strictly:
// the picker's own lenient parser would turn 31-02-2027 into 3 March, and an unreadable text would be
// replaced by the previous date on blur. Here an unreadable text stays in the field, so the server answers
// with a field error naming the format instead of silently submitting another day.
(() => {
  "use strict";

  const DAY_FIRST = /^\s*(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})\s*$/;
  const ISO = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$/;

  // The date typed, or NaN when it is not a real calendar day.
  function parse(text) {
    let day, month, year;
    let match = DAY_FIRST.exec(text || "");
    if (match) {
      [day, month, year] = [match[1], match[2], match[3]].map(Number);
    } else {
      match = ISO.exec(text || "");
      if (!match) return NaN;
      [year, month, day] = [match[1], match[2], match[3]].map(Number);
    }
    const date = new Date(year, month - 1, day);
    if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day) {
      return NaN;
    }
    return date;
  }

  const pad = (n) => String(n).padStart(2, "0");

  // The picker's format: DD-MM-YYYY shown, the strict reading above.
  const FORMAT = {
    toValue: (text) => parse(text),
    toDisplay: (date) => `${pad(date.getDate())}-${pad(date.getMonth() + 1)}-${date.getFullYear()}`,
  };

  function pageLanguage() {
    const lang = (document.documentElement.lang || "id").toLowerCase();
    return lang.startsWith("en") ? "en" : "id";
  }

  function enhance(input) {
    if (input.datepicker || typeof window.Datepicker !== "function") return;
    const options = {
      format: FORMAT,
      language: pageLanguage(),
      weekStart: 1,
      autohide: true,
      todayHighlight: true,
      todayButton: true,
      todayButtonMode: 1,
      clearButton: !input.required,
      showOnFocus: true,
      buttonClass: "btn",
    };
    // Bounds in the field's own format (data-min-date / data-max-date), e.g. the first day invitations open.
    const min = parse(input.dataset.minDate);
    const max = parse(input.dataset.maxDate);
    if (!Number.isNaN(Number(min))) options.minDate = min;
    if (!Number.isNaN(Number(max))) options.maxDate = max;
    new window.Datepicker(input, options);

    // Keep an unreadable typed text (the picker would put the previous date back on blur).
    let typed = input.value;
    input.addEventListener("input", () => {
      typed = input.value;
    });
    input.addEventListener("blur", () => {
      window.setTimeout(() => {
        if (typed.trim() && Number.isNaN(Number(parse(typed))) && input.value !== typed) {
          input.value = typed;
        }
      }, 0);
    });
    input.addEventListener("changeDate", () => {
      typed = input.value;
    });
  }

  function enhanceWithin(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("input[data-datepicker]")) enhance(root);
    root.querySelectorAll("input[data-datepicker]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", () => enhanceWithin(document.body));
  // Fragments swapped in by htmx (the appointment panel, the counter) get the picker too.
  document.addEventListener("htmx:load", (event) => enhanceWithin(event.target));
})();
