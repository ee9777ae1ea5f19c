// Select2 (3.5) writes its own messages in English ("No matches found", "Searching…"), and
// ships no catalog Flask-Admin loads: they come from mcbridge's catalogs instead, given
// by the server as this script tag's data-messages, and become Select2's defaults before
// Flask-Admin's form script turns the fields into Select2 ones.
(function () {
  "use strict";
  var words = JSON.parse(document.currentScript.getAttribute("data-messages"));

  function say(text) {
    return function () {
      return text;
    };
  }

  $.extend($.fn.select2.defaults, {
    formatNoMatches: say(words.noMatches),
    formatInputTooShort: say(words.inputTooShort),
    formatInputTooLong: say(words.inputTooLong),
    formatSelectionTooBig: say(words.selectionTooBig),
    formatLoadMore: say(words.loadMore),
    formatSearching: say(words.searching),
    formatAjaxError: say(words.ajaxError)
  });
}());
