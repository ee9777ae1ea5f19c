// What Flask-Admin's inline event handlers did, as listeners: the Content-Security-Policy
// refuses inline handlers, so mcbridge's copies of those templates (templates/csp) carry
// data attributes instead, read here.
(function () {
  "use strict";

  function closest(event, selector) {
    return event.target.closest ? event.target.closest(selector) : null;
  }

  document.addEventListener("click", function (event) {
    var button = closest(event, "[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
    var action = closest(event, "[data-action]");
    if (action) {
      window.modelActions.execute(action.getAttribute("data-action"));
    }
    var inline = closest(event, "[data-inline-field]");
    if (inline) {
      window.faForm.addInlineField(inline, inline.getAttribute("data-inline-field"));
    }
  });

  // Links to "javascript:void(0)" stand for buttons; the policy refuses to open them. Seen
  // on the way down (capture): a dropdown's toggle ("Add Filter") stops its click there.
  document.addEventListener("click", function (event) {
    if (closest(event, 'a[href^="javascript:"]')) {
      event.preventDefault();
    }
  }, true);
}());
