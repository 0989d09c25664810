// Glamiti: the little behaviour htmx does not cover. No build step, no framework.
(function () {
  "use strict";

  // A <dialog data-autoshow> that htmx swaps in opens as a modal; closing removes it.
  var openDialogs = []; // in the order they opened: the last one is on top
  function showDialogs(root) {
    root.querySelectorAll("dialog[data-autoshow]:not([open])").forEach(function (dialog) {
      dialog.addEventListener("close", function () {
        openDialogs = openDialogs.filter(function (d) { return d !== dialog; });
        dialog.remove();
      });
      openDialogs.push(dialog);
      dialog.showModal();
      var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    });
  }
  document.addEventListener("htmx:afterSwap", function (event) { showDialogs(document); });

  // A dialog opened from inside an open dialog (e.g. "Add a new client" while booking) stacks
  // on top instead of replacing it, so nothing typed in the first one is lost.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var slot = document.getElementById("dialog-slot");
    if (!slot || event.detail.target !== slot) return;
    var source = (event.detail.requestConfig || {}).elt || event.detail.elt;
    if (!source || !source.closest || !source.closest("dialog[open]")) return;
    var layer = document.createElement("div");
    layer.className = "dialog-layer";
    slot.parentNode.appendChild(layer);
    event.detail.target = layer;
  });
  document.addEventListener("DOMContentLoaded", function () { showDialogs(document); });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    var option = event.target.closest("[data-pick-client]");
    if (option) {
      pickClient(option.closest("[data-client-picker]"), option.dataset.pickClient, option.dataset.pickName);
      return;
    }
    var clear = event.target.closest("[data-picker-clear]");
    if (clear) {
      var picker = clear.closest("[data-client-picker]");
      pickClient(picker, "", "");
      var input = picker.querySelector("[data-picker-search] input");
      if (input) input.focus();
    }
  });

  function pickClient(picker, id, name) {
    if (!picker) return;
    picker.querySelector("[data-picker-value]").value = id;
    picker.querySelector("[data-picker-name]").textContent = name;
    picker.querySelector("[data-picker-selected]").hidden = !id;
    picker.querySelector("[data-picker-search]").hidden = !!id;
    var results = picker.querySelector(".picker-results");
    if (results) results.innerHTML = "";
    picker.dispatchEvent(new CustomEvent("client-picked", { bubbles: true, detail: { id: id, name: name } }));
  }

  // The client dialog saved a client: the form that opened it gets the client, else go to it.
  document.addEventListener("clientSaved", function (event) {
    var detail = event.detail || {};
    var top = openDialogs[openDialogs.length - 1];
    var opener = document.querySelector("[data-client-picker][data-awaiting-client]");
    if (top) top.close();
    if (opener) {
      opener.removeAttribute("data-awaiting-client");
      pickClient(opener, String(detail.id), detail.name);
    } else if (detail.url) {
      window.location.assign(detail.url);
    }
  });

  // Filter forms leave empty fields out of the URL they push, so links stay short and clean.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get" || !event.target.closest("[data-drop-empty]")) return;
    var params = event.detail.parameters;
    var empty = [];
    params.forEach ? params.forEach(function (value, key) { if (value === "") empty.push(key); })
                   : Object.keys(params).forEach(function (key) { if (params[key] === "") empty.push(key); });
    empty.forEach(function (key) { params.delete ? params.delete(key) : delete params[key]; });
  });

  // Our Content-Security-Policy refuses inline handlers (onfocus=...) and eval (htmx trigger
  // filters such as change[...]): these data attributes do their work instead.
  // <input data-select-on-focus>: focusing the field selects its text, ready to copy.
  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (field.matches && field.matches("input[data-select-on-focus]")) field.select();
  });
  // A change of a [data-filter-change] control sends "filter-change" to its form, whose
  // hx-trigger listens for it. (A `from:` listener would be lost when the control is swapped
  // out of band, as the voucher status chips are.)
  document.addEventListener("change", function (event) {
    var control = event.target;
    if (control.matches && control.matches("[data-filter-change]") && control.form) {
      control.form.dispatchEvent(new CustomEvent("filter-change", { bubbles: true }));
    }
  });

  // A picker's "new client" button marks the picker that should receive the new client.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var picker = event.target.closest && event.target.closest("[data-client-picker]");
    if (picker && event.target.hasAttribute("data-new-client")) {
      picker.setAttribute("data-awaiting-client", "");
    }
  });
})();
