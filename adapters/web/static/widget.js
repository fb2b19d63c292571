// shopdesk chat widget: plain JavaScript, no build step. Include it on any page with
//   <script src="https://your-shop/chat/widget.js" defer></script>
// It opens a WebSocket to the same server (/chat/ws) and speaks the JSON protocol in
// docs/WEB_CHAT.md. data-mode="inline" fills the page (as /chat does); the default is a
// floating button in the corner. The resume token is kept in localStorage, so a visitor
// who comes back (or reconnects) continues the same conversation.
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script.src, location.href).origin;
  var wsUrl = origin.replace(/^http/, "ws") + "/chat/ws";
  var inline = script.dataset.mode === "inline";
  var storageKey = "shopdesk.resume." + origin;

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = origin + "/chat/widget.css";
  document.head.appendChild(css);

  var root = el("div", "sd-chat " + (inline ? "sd-inline" : "sd-floating sd-closed"));
  var header = el("div", "sd-header", "Chat with us");
  var log = el("div", "sd-log");
  var typing = el("div", "sd-typing", "…");
  var form = el("form", "sd-form");
  var input = el("input", "sd-input");
  input.type = "text";
  input.placeholder = "Ask about an order, stock, returns…";
  input.setAttribute("aria-label", "Your message");
  var send = el("button", "sd-send", "Send");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  root.appendChild(header);
  root.appendChild(log);
  root.appendChild(typing);
  root.appendChild(form);
  if (!inline) {
    var toggle = el("button", "sd-toggle", "Chat");
    toggle.type = "button";
    toggle.onclick = function () {
      root.classList.toggle("sd-closed");
      if (!root.classList.contains("sd-closed")) input.focus();
    };
    document.body.appendChild(toggle);
  }
  document.body.appendChild(root);

  var ws = null;
  var ready = false;
  var retry = 500;
  var answers = {};
  var lastTyping = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function bubble(from, text) {
    var b = el("div", "sd-msg sd-" + from, text);
    log.appendChild(b);
    log.scrollTop = log.scrollHeight;
    return b;
  }

  function buttons(target, list) {
    if (!list || !list.length) return;
    var row = el("div", "sd-buttons");
    list.forEach(function (b) {
      var button = el("button", "sd-choice", b.label);
      button.type = "button";
      button.onclick = function () { say(b.command, b.label); };
      row.appendChild(button);
    });
    target.appendChild(row);
  }

  function status(text) {
    typing.textContent = text;
    typing.classList.toggle("sd-visible", !!text);
  }

  function connect() {
    ws = new WebSocket(wsUrl);
    ws.onopen = function () {
      retry = 500;
      var token = localStorage.getItem(storageKey);
      ws.send(JSON.stringify(token ? { type: "resume", token: token }
                                   : { type: "hello", language: navigator.language }));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      switch (frame.type) {
        case "welcome":
          localStorage.setItem(storageKey, frame.resume_token);
          log.textContent = "";
          frame.history.forEach(function (line) { bubble(line.from, line.text); });
          ready = true;
          root.dataset.state = "ready";
          status("");
          break;
        case "typing":
          status("…");
          break;
        case "token":
          var b = answers[frame.id] || (answers[frame.id] = bubble("bot sd-streaming", ""));
          b.textContent += frame.text;
          b.dataset.chunks = String(Number(b.dataset.chunks || 0) + 1);
          log.scrollTop = log.scrollHeight;
          break;
        case "done":
          status("");
          if (frame.duplicate) break;
          var done = answers[frame.id] || bubble("bot", "");
          delete answers[frame.id];
          done.classList.remove("sd-streaming");
          done.classList.add("sd-done");
          if (frame.text) done.textContent = frame.text;
          buttons(done, frame.buttons);
          break;
        case "message":
          buttons(bubble("staff", frame.text), frame.buttons);
          break;
        case "error":
          if (frame.code === "bad_token") {
            localStorage.removeItem(storageKey);
            ws.send(JSON.stringify({ type: "hello", language: navigator.language }));
          } else {
            bubble("error", frame.message);
          }
          break;
      }
    };
    ws.onclose = function () {
      ready = false;
      root.dataset.state = "connecting";
      status("Reconnecting…");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  function say(text, shown) {
    if (!ready || !text.trim()) return;
    var id = "m" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    bubble("user", shown || text);
    ws.send(JSON.stringify({ type: "message", id: id, text: text }));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    say(input.value);
    input.value = "";
  });

  input.addEventListener("input", function () {
    var now = Date.now();
    if (ready && now - lastTyping > 3000) {
      lastTyping = now;
      ws.send(JSON.stringify({ type: "typing" }));
    }
  });

  connect();
})();
