// Glamiti checkout: add and remove rows, show the fields a row needs, and a live total.
// The server is the source of truth: it recalculates everything when the sale is saved.
(function () {
  "use strict";

  function cents(text) {
    var value = parseFloat(String(text || "").replace(",", "."));
    return isFinite(value) ? Math.round(value * 100) : 0;
  }

  function setupCheckout(form) {
    var currency = form.dataset.currency || "GBP";
    var format = new Intl.NumberFormat(document.documentElement.lang || "en-GB", { style: "currency", currency: currency });
    function money(c) { return format.format(c / 100); }

    function removed(row) {
      var box = row.querySelector('input[name$="-DELETE"]');
      return box && box.checked;
    }

    function rows(name) {
      return Array.prototype.slice.call(form.querySelectorAll('[data-formset="' + name + '"] [data-rows] [data-row]'));
    }

    function field(row, suffix) { return row.querySelector('[name$="-' + suffix + '"]'); }

    // Fields for one kind of row (a voucher's code, a saved card's choice) appear when the
    // row's item or payment method is that kind.
    function syncRow(row) {
      var chooser = field(row, "item") || field(row, "method");
      var isVoucher = chooser && chooser.value === "voucher";
      row.querySelectorAll("[data-show-when]").forEach(function (cell) {
        var hasError = cell.classList.contains("field-invalid");
        cell.hidden = !(chooser && chooser.value === cell.dataset.showWhen) && !hasError;
      });
      row.classList.toggle("is-removed", !!removed(row));
      var item = field(row, "item");
      var price = field(row, "unit_price");
      if (item && price) {
        var option = item.selectedOptions[0];
        price.placeholder = option && option.dataset.price ? option.dataset.price : (isVoucher ? "Value" : "Price");
      }
      var rest = row.querySelector("[data-pay-rest]");
      if (rest) rest.hidden = false;
    }

    function lineCents(row) {
      var item = field(row, "item");
      if (!item || !item.value || removed(row)) return null;
      var option = item.selectedOptions[0];
      var priceInput = field(row, "unit_price");
      var price = priceInput.value !== "" ? cents(priceInput.value) : cents(option && option.dataset.price);
      var qty = parseInt(field(row, "quantity").value, 10) || 0;
      var gross = price * qty;
      var discount = Math.min(cents(field(row, "discount").value), gross);
      return { gross: gross, discount: Math.max(discount, 0) };
    }

    function paidCents(except) {
      return rows("payments").reduce(function (sum, row) {
        if (row === except || removed(row)) return sum;
        return sum + cents(field(row, "amount").value);
      }, 0);
    }

    var figures = {};
    function recalc() {
      var subtotal = 0, discount = 0;
      rows("items").forEach(function (row) {
        syncRow(row);
        var line = lineCents(row);
        var output = row.querySelector("[data-line-total]");
        if (output) output.textContent = line ? money(line.gross - line.discount) : "";
        if (line) { subtotal += line.gross; discount += line.discount; }
      });
      rows("payments").forEach(syncRow);
      rows("tips").forEach(syncRow);
      var total = subtotal - discount;
      var tip = cents(form.querySelector('[name="tip"]').value);
      var paid = paidCents(null);
      var due = total + tip;
      figures = { total: total, due: due, paid: paid };
      var shown = {
        subtotal: money(subtotal),
        discount: (discount ? "−" : "") + money(discount),
        total: money(total),
        tip: money(tip),
        due: money(due),
        paid: money(paid),
        remaining: money(Math.abs(due - paid))
      };
      Object.keys(shown).forEach(function (key) {
        var cell = form.querySelector('[data-sum="' + key + '"]');
        if (cell) cell.textContent = shown[key];
      });
      var label = form.querySelector("[data-remaining-label]");
      if (label) label.textContent = paid > due ? "Over by" : "Still to pay";
      var remaining = form.querySelector(".summary-remaining");
      if (remaining) remaining.classList.toggle("is-settled", paid === due && due > 0);
      var complete = form.querySelector("[data-complete]");
      if (complete) complete.textContent = due > 0 ? "Complete sale · " + money(due) : "Complete sale";
    }

    function addRow(formset) {
      var total = formset.querySelector('input[name$="-TOTAL_FORMS"]');
      var max = formset.querySelector('input[name$="-MAX_NUM_FORMS"]');
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) return;
      var template = formset.querySelector("template[data-empty-row]");
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.firstElementChild;
      formset.querySelector("[data-rows]").appendChild(row);
      total.value = String(index + 1);
      syncRow(row);
      var first = row.querySelector("select, input:not([type=hidden]):not([type=checkbox])");
      if (first) first.focus();
      recalc();
    }

    form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      if (add) { addRow(add.closest("[data-formset]")); return; }
      var rest = event.target.closest("[data-pay-rest]");
      if (rest) {
        recalc();
        var row = rest.closest("[data-row]");
        var left = figures.due - paidCents(row);
        field(row, "amount").value = (Math.max(left, 0) / 100).toFixed(2);
        recalc();
        return;
      }
      var quick = event.target.closest("[data-tip-percent]");
      if (quick) {
        recalc();
        var tip = Math.round(figures.total * parseInt(quick.dataset.tipPercent, 10) / 100);
        form.querySelector('[name="tip"]').value = (tip / 100).toFixed(2);
        recalc();
      }
    });
    form.addEventListener("input", recalc);
    form.addEventListener("change", recalc);

    // Choosing the client loads their saved cards into the payment rows' card menus.
    var cardOptionsUrl = form.dataset.cardOptionsUrl;
    form.addEventListener("client-picked", function (event) {
      if (!cardOptionsUrl) return;
      var url = cardOptionsUrl + "?card_options=1&client=" + encodeURIComponent(event.detail.id || "");
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          form.querySelectorAll("select[data-card-options]").forEach(function (select) {
            var chosen = select.value;
            select.innerHTML = html;
            if (chosen && select.querySelector('option[value="' + chosen + '"]')) select.value = chosen;
          });
          var template = form.querySelector('[data-formset="payments"] template[data-empty-row]');
          var holder = template && template.content.querySelector("select[data-card-options]");
          if (holder) holder.innerHTML = html;
        });
    });

    // A second click while the first submit is on its way does nothing (the server would
    // return the same sale anyway, thanks to the form's idempotency key).
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        form.setAttribute("aria-busy", "true");
      }, 0);
    });
    window.addEventListener("pageshow", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      form.removeAttribute("aria-busy");
    });

    form.querySelectorAll("[data-tip-quick]").forEach(function (group) { group.hidden = false; });
    recalc();
    var errors = document.getElementById("checkout-errors");
    if (errors) errors.focus();
  }

  // Receipt: copy the client's feedback link.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.getElementById(button.dataset.copy);
    if (!input) return;
    function done() {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = "Copy link"; }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done);
    } else {
      input.select();
      document.execCommand("copy");
      done();
    }
  });

  function init() { document.querySelectorAll("form[data-checkout]").forEach(setupCheckout); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
