// The keypad: clicking a key types into the entry field, grouped 4-4-4-4-4 like a token.
(function () {
  "use strict";
  var input = document.getElementById("keys");
  if (!input) { return; }
  function group(digits) {
    return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
  }
  document.querySelectorAll(".keypad button[data-key]").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-key");
      var digits = input.value.replace(/\D/g, "");
      if (key === "clear") { digits = ""; }
      else if (digits.length < 24) { digits += key; }
      input.value = group(digits);
      input.focus();
    });
  });
})();
