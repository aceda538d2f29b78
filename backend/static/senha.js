/* Live check of a new password against the rules the server rendered (li[data-rule]); the server
   checks them again. Same rule codes as backend/passwords.py. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-password-form]");
  if (!form) { return; }
  var password = form.querySelector("#nova_senha");
  var confirmation = form.querySelector("#confirmacao");
  var warning = form.querySelector("#aviso-senha");
  var confirmationWarning = form.querySelector("#aviso-confirmacao");
  var rules = Array.prototype.slice.call(form.querySelectorAll("li[data-rule]"));

  function length(text) { return Array.from(text).length; }
  var checks = {
    min_length: function (p, n) { return length(p) >= n; },
    max_length: function (p, n) { return length(p) <= n; },
    max_bytes: function (p, n) { return new TextEncoder().encode(p).length <= n; },
    alphanumeric: function (p) { return /^[A-Za-z0-9]*$/.test(p); },
    first_lowercase: function (p) { return /^\p{Ll}/u.test(p); },
    letter: function (p) { return /\p{L}/u.test(p); },
    uppercase: function (p) { return /\p{Lu}/u.test(p); },
    digit: function (p) { return /\p{Nd}/u.test(p); },
    symbol: function (p) { return /[^\p{L}\p{N}\s]/u.test(p); }
  };

  function check(showEmpty) {
    var value = password.value;
    var missing = [];
    rules.forEach(function (rule) {
      var ok = checks[rule.dataset.rule](value, Number(rule.dataset.value));
      rule.classList.toggle("ok", ok && value !== "");
      rule.classList.toggle("falta", !ok && (value !== "" || showEmpty));
      if (!ok) { missing.push(rule.textContent); }
    });
    warning.textContent = (value !== "" || showEmpty) && missing.length ? "Falta: " + missing.join(" ") : "";
    var mismatch = confirmation.value !== "" || showEmpty ? confirmation.value !== value : false;
    confirmationWarning.textContent = mismatch ? form.dataset.mismatch : "";
    return missing.length === 0 && !mismatch;
  }

  password.addEventListener("input", function () { check(false); });
  confirmation.addEventListener("input", function () { check(false); });
  form.addEventListener("submit", function (event) {
    if (!check(true)) {
      event.preventDefault();
      password.focus();
    }
  });
}());
