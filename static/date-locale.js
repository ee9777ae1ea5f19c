// The date picker in the page's language: month and day names and the first day of the week
// come from the server (Babel's CLDR data), given as this script tag's data-locale; the
// picker (bootstrap-daterangepicker) reads them from moment.js's current locale.
(function () {
  "use strict";
  var config = JSON.parse(document.currentScript.getAttribute("data-locale"));
  moment.locale(config.name, {
    months: config.months,
    monthsShort: config.monthsShort,
    weekdays: config.weekdays,
    weekdaysShort: config.weekdaysShort,
    weekdaysMin: config.weekdaysMin,
    week: config.week
  });
})();
