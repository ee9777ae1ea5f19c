// The date picker in the page's language: month and day names and the first day of the week
// come from the server (Babel's CLDR data), given as this script tag's data-locale; the
// picker (bootstrap-daterangepicker) reads them from moment.js's current locale. Its button
// and field labels it takes only from each call's options, so every call gets them: the
// picker is wrapped once the page is parsed, before jQuery's (asynchronous) ready handlers
// create the pickers.
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
  document.addEventListener("DOMContentLoaded", function () {
    var picker = window.jQuery && window.jQuery.fn.daterangepicker;
    if (!picker) {
      return;
    }
    window.jQuery.fn.daterangepicker = function (options, callback) {
      var localised = window.jQuery.extend(true, { locale: config.labels }, options);
      return picker.call(this, localised, callback);
    };
  });
})();
