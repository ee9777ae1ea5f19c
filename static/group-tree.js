// The groups tree's disclosure buttons: each shows or hides the list of groups below it
// (aria-controls) and says so (aria-expanded). Loaded as a file: the page's policy runs
// no inline script.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".mcb-tree-toggle");
    if (!button) {
      return;
    }
    var below = document.getElementById(button.getAttribute("aria-controls"));
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    below.hidden = !open;
  });
}());
