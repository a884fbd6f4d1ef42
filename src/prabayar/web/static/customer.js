// Receipt page: copy the token to the clipboard, print the struk (print CSS hides the rest).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = button.parentNode.querySelector(".copy-status");
      if (!source) { return; }
      var digits = source.textContent.replace(/\s+/g, "");
      function done() { if (status) { status.textContent = button.getAttribute("data-copied"); } }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(digits).then(done, function () { fallback(digits); done(); });
      } else {
        fallback(digits);
        done();
      }
    });
  });
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
