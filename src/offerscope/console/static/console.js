// offerscope console: small progressive enhancements. No inline scripts (the CSP forbids them).
(function () {
  "use strict";

  // Product rows expand into their specifications.
  function toggleRow(button) {
    var row = document.getElementById(button.getAttribute("data-toggle-row"));
    if (!row) { return; }
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    row.hidden = open;
  }

  // Dialogs (Add User, Associate Product) open modally and close with Cancel or Escape.
  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (dialog && !dialog.open) {
      dialog.showModal();
      var first = dialog.querySelector("[aria-invalid='true']") ||
        dialog.querySelector("input:not([type='hidden']), select, button");
      if (first) { first.focus(); }
    }
  }

  // Copy a value (My Credentials' fields, an ID shown short), and say so for screen readers.
  function say(text) {
    var status = document.querySelector(".copy-status") || document.getElementById("live");
    if (status) { status.textContent = text; }
  }

  function copyValue(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    var label = document.querySelector("label[for='" + input.id + "']");
    copyText(input.value, (label ? label.textContent : "Value") + " copied.", function () {
      input.select();
    });
  }

  function copyText(text, done, fallback) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say(done); }, function () {
        if (fallback) { fallback(); }
        say("Press Ctrl+C (or Cmd+C) to copy.");
      });
    } else {
      say("Select the text and press Ctrl+C (or Cmd+C) to copy.");
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-toggle-row], [data-open-dialog], [data-close-dialog], [data-copy], [data-copy-text]");
    if (!target) { return; }
    if (target.hasAttribute("data-toggle-row")) { toggleRow(target); }
    else if (target.hasAttribute("data-open-dialog")) { openDialog(target.getAttribute("data-open-dialog")); }
    else if (target.hasAttribute("data-close-dialog")) { target.closest("dialog").close(); }
    else if (target.hasAttribute("data-copy")) { copyValue(target); }
    else if (target.hasAttribute("data-copy-text")) {
      copyText(target.getAttribute("data-copy-text"), "Copied " + target.getAttribute("data-copy-text") + ".");
    }
  });

  // A form is sent once: a second click while it is on its way does nothing (the server also
  // makes one change per form, R15). Buttons are disabled after the submission has started, so
  // that the clicked button's own value still goes with it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") { return; }
    if (form.hasAttribute("data-sending")) { event.preventDefault(); return; }
    form.setAttribute("data-sending", "");
    window.setTimeout(function () {
      var buttons = form.querySelectorAll("button[type='submit'], button:not([type])");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = true;
        buttons[i].setAttribute("aria-busy", "true");
      }
    }, 0);
  });

  // Back to a page kept by the browser: its forms may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    var forms = document.querySelectorAll("form[data-sending]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].removeAttribute("data-sending");
      var buttons = forms[i].querySelectorAll("button");
      for (var j = 0; j < buttons.length; j++) {
        buttons[j].disabled = false;
        buttons[j].removeAttribute("aria-busy");
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // A dialog whose form came back with errors opens again, errors beside its fields.
    var dialogs = document.querySelectorAll("dialog[data-open-on-load]");
    for (var i = 0; i < dialogs.length; i++) { openDialog(dialogs[i].id); }
    // A message about one part of the page (after Add User, Remove, Associate) is shown in
    // that part: bring it into view and give it focus, so that it is read first.
    var near = document.querySelector("[data-flash]");
    if (near && !dialogs.length) {
      near.scrollIntoView({ block: "center" });
      near.focus({ preventScroll: true });
    }
  });
})();
