// Glamiti client profile: keep keyboard focus on the tab bar when a tab loads, and refuse
// files over the size limit before they are sent (the server refuses them too).
(function () {
  "use strict";

  var focusTab = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.detail.elt;
    focusTab = link && link.dataset && link.dataset.tab && document.activeElement === link ? link.dataset.tab : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!focusTab || !event.detail.target || event.detail.target.id !== "profile-tabs") return;
    var link = event.detail.target.querySelector('.pf-tab-nav a[data-tab="' + focusTab + '"]');
    if (link) link.focus();
    focusTab = null;
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("form[data-max-bytes] input[type=file]")) return;
    var limit = parseInt(input.form.dataset.maxBytes, 10);
    var file = input.files && input.files[0];
    var tooLarge = file && file.size > limit;
    input.setCustomValidity(tooLarge ? "This file is larger than " + Math.round(limit / 1048576) + " MB; choose a smaller one." : "");
    if (tooLarge) input.reportValidity();
  });
})();
