// What assistive technology needs on pages drawn by Flask-Admin and its Select2 (3.5), done
// once the page is there and again on whatever they add to it later:
// - Font Awesome icons are decorative: hidden, or their glyph (a private-use character)
//   would be read into the name of the link or button they sit in; an icon alone in a link
//   or button gets its name from an aria-label or title there.
// - Select2's "remove" cross on each chosen item is a link with no text, kept out of the
//   keyboard's way (Backspace in the field removes an item): hidden as well, rather than
//   announced as an unnamed link.
// - A single Select2 field is focused through a hidden text input Select2 calls a button,
//   a role no text input may have: it is the closed combobox it stands for (opening it moves
//   the focus to Select2's search field, itself an open combobox).
(function () {
  "use strict";

  function hide(root, selector) {
    var found = root.querySelectorAll(selector);
    for (var i = 0; i < found.length; i += 1) {
      found[i].setAttribute("aria-hidden", "true");
    }
  }

  function tidy() {
    hide(document, ".fa:not(a):not(button):not([aria-hidden]), .glyphicon:not(a):not(button):not([aria-hidden])");
    hide(document, ".select2-search-choice-close:not([aria-hidden])");
    var crosses = document.querySelectorAll(".select2-search-choice-close:not([tabindex])");
    for (var i = 0; i < crosses.length; i += 1) {
      crosses[i].setAttribute("tabindex", "-1");
    }
    var focussers = document.querySelectorAll(".select2-focusser[role='button']");
    for (var j = 0; j < focussers.length; j += 1) {
      focussers[j].setAttribute("role", "combobox");
      focussers[j].setAttribute("aria-expanded", "false");
    }
  }

  tidy();
  new MutationObserver(tidy).observe(document.body, { childList: true, subtree: true });
}());
