/* The inbox composer: "#" finds a quick reply, "/" a bot; the thread stays scrolled to
   the newest message while it is polled. Everything posts as a plain form without it. */
(function () {
  "use strict";

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) return [];
    try { return JSON.parse(node.textContent || "[]"); } catch (e) { return []; }
  }

  function thread() { return document.getElementById("thread-messages"); }
  var stickToBottom = true;

  function scrollToBottom() {
    var box = thread();
    if (box) box.scrollTop = box.scrollHeight;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = thread();
    if (box && (event.detail.target === box || event.detail.target.id === "composer")) {
      stickToBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (stickToBottom) scrollToBottom();
    bindComposer();
  });
  document.addEventListener("DOMContentLoaded", function () {
    scrollToBottom();
    bindComposer();
  });

  // --- suggestions ------------------------------------------------------------------------

  function insertAtCursor(textarea, text, start, end) {
    var value = textarea.value;
    textarea.value = value.slice(0, start) + text + value.slice(end);
    var caret = start + text.length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
  }

  function currentToken(textarea) {
    var upto = textarea.value.slice(0, textarea.selectionStart);
    var match = /(^|\s)#([^\s#]*)$/.exec(upto);
    if (match) return { kind: "quick", query: match[2].toLowerCase(), start: upto.length - match[2].length - 1 };
    if (textarea.value.charAt(0) === "/") return { kind: "bot", query: textarea.value.toLowerCase(), start: 0 };
    return null;
  }

  function bindComposer() {
    var textarea = document.getElementById("composer-body");
    if (!textarea || textarea.dataset.bound) return;
    textarea.dataset.bound = "1";
    var list = document.getElementById("composer-suggest");
    var quick = readJSON("quick-replies");
    var bots = readJSON("bots-data");
    var items = [];
    var selected = -1;
    var token = null;

    function close() { list.hidden = true; list.innerHTML = ""; items = []; selected = -1; }

    function choose(index) {
      var item = items[index];
      if (!item || !token) return;
      if (token.kind === "quick") {
        insertAtCursor(textarea, item.text, token.start, textarea.selectionStart);
      } else {
        textarea.value = item.name;
        textarea.focus();
      }
      close();
    }

    function show() {
      token = currentToken(textarea);
      if (!token) { close(); return; }
      if (token.kind === "quick") {
        items = quick.filter(function (q) {
          return q.shortcut.toLowerCase().indexOf(token.query) === 0 || q.title.toLowerCase().indexOf(token.query) >= 0;
        });
      } else {
        items = bots.filter(function (b) { return b.name.toLowerCase().indexOf(token.query) === 0; });
      }
      if (!items.length) { close(); return; }
      list.innerHTML = "";
      items.forEach(function (item, index) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.index = String(index);
        var strong = document.createElement("strong");
        strong.textContent = token.kind === "quick" ? "#" + item.shortcut + " · " + item.title : item.name;
        var small = document.createElement("small");
        small.textContent = token.kind === "quick" ? item.text : (item.title || item.description || "");
        li.appendChild(strong);
        li.appendChild(small);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
        list.appendChild(li);
      });
      selected = 0;
      mark();
      list.hidden = false;
    }

    function mark() {
      Array.prototype.forEach.call(list.children, function (li, index) {
        li.setAttribute("aria-selected", index === selected ? "true" : "false");
      });
    }

    textarea.addEventListener("input", show);
    textarea.addEventListener("blur", function () { window.setTimeout(close, 150); });
    textarea.addEventListener("keydown", function (event) {
      if (!list.hidden && items.length) {
        if (event.key === "ArrowDown") { event.preventDefault(); selected = Math.min(selected + 1, items.length - 1); mark(); return; }
        if (event.key === "ArrowUp") { event.preventDefault(); selected = Math.max(selected - 1, 0); mark(); return; }
        if (event.key === "Enter" || event.key === "Tab") { event.preventDefault(); choose(selected); return; }
        if (event.key === "Escape") { event.preventDefault(); close(); return; }
      }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (textarea.value.trim()) textarea.form.requestSubmit();
      }
    });

    var picker = document.getElementById("quick-reply-picker");
    if (picker) {
      picker.addEventListener("change", function () {
        var item = quick[Number(picker.value)];
        if (item) insertAtCursor(textarea, item.text, textarea.selectionStart, textarea.selectionEnd);
        picker.value = "";
      });
    }
  }
})();
