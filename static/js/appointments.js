// Appointments: the calendar's small behaviours. No build step, no framework.
(function () {
  "use strict";
  if (window.glamitiAppointments) return; // linked from several templates; bind once
  window.glamitiAppointments = true;

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
