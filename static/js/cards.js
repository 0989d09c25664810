// Glamiti: add a card with Stripe's own card field. The card goes from the browser to
// Stripe (confirmCardSetup); our server only learns which card Stripe saved.
(function () {
  "use strict";

  function setup(root) {
    var form = root.querySelector("[data-card-form]");
    if (!form) return;
    var errors = root.querySelector("[data-card-errors]");
    var status = root.querySelector("[data-card-status]");
    var button = root.querySelector("[data-card-submit]");
    function fail(message) {
      errors.textContent = message;
      status.textContent = "";
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
    if (typeof window.Stripe !== "function") {
      fail("Stripe's card field could not be loaded. Check the connection and reload the page.");
      button.disabled = true;
      return;
    }
    var stripe = window.Stripe(root.dataset.publishableKey);
    var card = stripe.elements().create("card", { hidePostalCode: false });
    card.mount(root.querySelector("[data-card-element]"));
    card.on("change", function (event) {
      errors.textContent = event && event.error ? event.error.message : "";
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) return;
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      errors.textContent = "";
      status.textContent = "Checking the card with the bank…";
      var name = root.querySelector("[data-cardholder-name]").value.trim();
      var details = { card: card };
      if (name) details.billing_details = { name: name };
      stripe.confirmCardSetup(root.dataset.clientSecret, { payment_method: details }).then(
        function (result) {
          if (result.error) {
            fail((result.error.message || "The card was not accepted.") + " Check the details, or try another card.");
            return;
          }
          status.textContent = "Card accepted. Saving…";
          form.submit();
        },
        function () { fail("Stripe could not be reached. Try again in a moment."); }
      );
    });
  }

  function init() { document.querySelectorAll("[data-card-setup]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
