// One date input for the whole app: every input[data-datepicker] (registry/widgets.py DateInput) shows and
// accepts DD-MM-YYYY whatever the browser's language, with a calendar (vanillajs-datepicker) in the page's
// language: Indonesian month names, English when the page is in English.
//
// Typing still works: the server reads what is in the field (registry/widgets.py DATE_INPUT_FORMATS).
// A date the clerk typed is read day first (05-01-2027, 5/1/2027, 05.01.2027) or as ISO (2027-01-05), strictly:
// the picker's own lenient parser would turn 31-02-2027 into 3 March, and an unreadable text would be
// replaced by the previous date (or emptied) on blur. Here an unreadable text stays in the field, so the
// server answers with a field error naming the format instead of silently submitting another day. A readable
// one is shown back as DD-MM-YYYY (5/1/2027 becomes 05-01-2027, the same day).
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
    const served = input.value; // as the server sent it back (a refused text with its error beside)
    const picker = new window.Datepicker(input, options);
    if (input.value !== served) input.value = served; // the picker empties a text it cannot read

    // The picker reads the field again on blur and Enter (update), and puts its last date back when the text
    // is unreadable; that runs before the form is sent, so a wrong text would be replaced by the previous day
    // or by nothing (and "nothing" books the nearest day). An unreadable text is left as typed instead: the
    // server answers with the field's error beside it.
    // A readable day outside the bounds would be dropped the same way: it is left for the server to answer too.
    const update = picker.update.bind(picker);
    picker.update = (updateOptions) => {
      const text = input.value.trim();
      const day = parse(text);
      const outside = (options.minDate && day < options.minDate) || (options.maxDate && day > options.maxDate);
      if (text && (Number.isNaN(Number(day)) || outside)) return;
      update(updateOptions);
    };
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
