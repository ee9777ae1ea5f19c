// Group filters load their choices as the user types: a list page carries the one group
// chosen, not every group of the organisation (ScopedModelView.filter_searches). Flask-Admin
// draws a filter's field and makes a "select2-ajax" one a Select2 search, reading what its
// form fields carry as attributes: where to search, the chosen choice, a placeholder. A
// filter's field has none of them; this gives them, and a label, before Select2 reads them.
(function () {
  "use strict";

  var searches = JSON.parse(document.currentScript.getAttribute("data-searches"));
  var drawn = 0;

  function describe($field) {
    var name = $field.attr("name") || "";
    var search = searches[name.slice(name.indexOf("_") + 1)];
    if (!search) {
      return;
    }
    var value = $field.val();
    var chosen = Object.prototype.hasOwnProperty.call(search.chosen, value)
      ? [value, search.chosen[value]]
      : null;
    drawn += 1;
    var id = "filter-search-" + drawn;
    $field.attr({
      id: id,
      "data-url": search.url,
      "data-json": JSON.stringify(chosen),
      "data-placeholder": search.placeholder,
      "data-minimum-input-length": "0"
    });
    $field.before($("<label class='sr-only'></label>").attr("for", id).text(search.label));
  }

  // Flask-Admin's form.js announces its form helper with this event before the filters'
  // script draws the filters chosen in the URL.
  $(document).one("adminFormReady", function () {
    window.faForm.addFieldConverter(function ($el, style) {
      if (style === "select2-ajax" && $el.hasClass("filter-val")) {
        describe($el);
      }
      return false; // Flask-Admin's own "select2-ajax" style does the rest
    });
  });
}());
