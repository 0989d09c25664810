// Appointments: the calendar's small behaviours. No build step, no framework.
(function () {
  "use strict";
  if (window.glamitiAppointments) return; // linked from several templates; bind once
  window.glamitiAppointments = true;

  // A dialog opened from inside an open dialog (e.g. "Add a new client" in the booking
  // dialog) stacks on top instead of replacing it, so nothing typed in the first is lost.
  // The stack sits before #dialog-slot: when a client is saved, glamiti.js closes the first
  // open dialog in the page, which must be the one on top.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var slot = document.getElementById("dialog-slot");
    if (!slot || event.detail.target !== slot) return;
    var config = event.detail.requestConfig || {};
    var source = config.elt || event.detail.elt;
    if (!source || !source.closest || !source.closest("#dialog-slot dialog[open]")) return;
    var stack = document.getElementById("dialog-stack");
    if (!stack) {
      stack = document.createElement("div");
      stack.id = "dialog-stack";
      slot.parentNode.insertBefore(stack, slot);
    }
    event.detail.target = stack;
  });

  // A form re-rendered with errors shows its first problem, even when it was submitted from
  // the bottom of a long dialog.
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = event.target;
    if (!form || !form.matches || !form.matches(".booking-form")) return;
    var problem = form.querySelector("[role=alert], .field-invalid");
    if (problem) problem.scrollIntoView({ block: "nearest" });
  });

  // The date box above the calendar goes to the chosen day as soon as it changes.
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-submit-on-change]");
    // Typing a year goes through 0002, 0020…: wait for a plausible one.
    if (form && event.target.value && event.target.value.slice(0, 4) >= "2000") form.submit();
  });

  // Open the calendar scrolled to the current time (today) or the first appointment.
  function scrollCalendar() {
    var scroller = document.querySelector("[data-calendar-scroll]");
    if (!scroller) return;
    var mark = scroller.querySelector(".is-focus") || scroller.querySelector(".calendar-now");
    if (!mark) {
      scroller.querySelectorAll(".appointment-block").forEach(function (block) {
        if (!mark || block.getBoundingClientRect().top < mark.getBoundingClientRect().top) mark = block;
      });
    }
    if (!mark) return;
    var head = scroller.querySelector(".calendar-head");
    var offset = mark.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    scroller.scrollTop += offset - (head ? head.offsetHeight : 0) - 48;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scrollCalendar);
  } else {
    scrollCalendar();
  }
})();
