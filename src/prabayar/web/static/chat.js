// Live chat: send the forms with fetch, append messages from the server-sent event stream.
// Without JavaScript every form still posts and the page is rendered again.
(function () {
  "use strict";
  var box = document.querySelector("[data-stream]");
  var queue = document.querySelector("[data-queue-stream]");
  if (queue && window.EventSource) {
    var qs = new EventSource(queue.getAttribute("data-queue-stream"));
    qs.addEventListener("queue", function () { window.location.reload(); });
  }
  if (!box) { return; }
  var log = document.getElementById("chat-log");
  var seen = {};
  log.querySelectorAll("[data-id]").forEach(function (li) { seen[li.getAttribute("data-id")] = true; });

  function scroll() { log.scrollTop = log.scrollHeight; }
  function append(m) {
    if (seen[String(m.id)]) { return; }
    seen[String(m.id)] = true;
    var li = document.createElement("li");
    li.className = "chat-msg " + m.sender;
    li.setAttribute("data-id", String(m.id));
    li.setAttribute("data-sender", m.sender);
    var meta = document.createElement("span");
    meta.className = "chat-meta";
    meta.textContent = m.author + " · " + m.at;
    var text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = m.text;
    li.appendChild(meta);
    li.appendChild(text);
    log.appendChild(li);
    log.setAttribute("data-after", String(m.id));
    scroll();
  }
  scroll();

  if (window.EventSource) {
    var after = log.getAttribute("data-after") || "0";
    var source = new EventSource(box.getAttribute("data-stream") + "?after=" + encodeURIComponent(after));
    source.addEventListener("message", function (event) { append(JSON.parse(event.data)); });
    source.addEventListener("status", function (event) {
      var info = JSON.parse(event.data);
      box.setAttribute("data-status", info.status);
      if (info.status === "closed") { source.close(); }
    });
  }

  document.querySelectorAll("form[data-chat-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch) { return; }
      event.preventDefault();
      var data = new FormData(form);
      var input = form.querySelector("input[name=text]");
      fetch(form.getAttribute("action"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (response.status === 204) {
          if (input) { input.value = ""; input.focus(); }
        } else {
          window.location.reload();
        }
      });
    });
  });
})();
