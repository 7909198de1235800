/* The inbox composer: "#" finds a quick reply, "/" a bot; the thread stays scrolled to
   the newest message while it is polled; the composer is redrawn, keeping what was
   typed, when the 24-hour window opens or closes; the list builder adds sections and
   rows. Everything posts as a plain form without it. */
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
    bindListBuilder();
  });
  document.addEventListener("DOMContentLoaded", function () {
    scrollToBottom();
    bindComposer();
    bindListBuilder();
  });

  // --- the composer redrawn when the 24-hour window opens or closes -----------------------
  // The server draws the box for the new window (free text, or templates only); what the
  // agent had typed or opened is carried over into the new one, nothing is lost.

  var carried = null;

  function isRedraw(event) {
    // requestConfig.elt is the element that asked (beforeSwap's own elt is the target).
    var elt = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
    return elt && elt.id === "composer-refresh";
  }

  function snapshot(composer) {
    var kept = {};
    composer.querySelectorAll("[data-keep]").forEach(function (block) {
      var values = {};
      block.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (field) {
        if (field.type === "hidden" || field.type === "file" || field.name === "csrfmiddlewaretoken") return;
        (values[field.name] = values[field.name] || []).push(field.value);
      });
      kept[block.dataset.keep] = {
        values: values,
        open: block.tagName === "DETAILS" && !block.hasAttribute("data-server-open") ? block.open : null,
        html: block.matches(".composer-list") ? block.querySelector("[data-list-sections]").innerHTML : null,
      };
    });
    var active = document.activeElement;
    return {
      blocks: kept,
      focus: active && composer.contains(active) && active.name ? active.name : "",
      selection: active && active.id === "composer-body" ? [active.selectionStart, active.selectionEnd] : null,
    };
  }

  function restore(composer, state) {
    Object.keys(state.blocks).forEach(function (key) {
      var block = composer.querySelector('[data-keep="' + key + '"]');
      if (!block) return;
      var kept = state.blocks[key];
      if (kept.html !== null) {
        // The list builder may have more sections and rows than the server draws.
        block.querySelector("[data-list-sections]").innerHTML = kept.html;
      }
      if (kept.open !== null) block.open = block.open || kept.open;
      Object.keys(kept.values).forEach(function (name) {
        var fields = block.querySelectorAll('[name="' + name + '"]');
        kept.values[name].forEach(function (value, index) {
          if (fields[index] && value) fields[index].value = value;
        });
      });
    });
    if (state.focus) {
      var field = composer.querySelector('[name="' + state.focus + '"]');
      if (field) {
        field.focus();
        if (state.selection && field.id === "composer-body") field.setSelectionRange(state.selection[0], state.selection[1]);
      }
    }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (!isRedraw(event)) return;
    var box = document.getElementById("composer-body");
    if (box && box.value.trim()) event.detail.parameters.draft = "1";
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!isRedraw(event)) return;
    var composer = document.getElementById("composer");
    carried = composer ? snapshot(composer) : null;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!isRedraw(event) || !carried) return;
    var composer = document.getElementById("composer");
    if (composer) restore(composer, carried);
    carried = null;
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

  // --- the list builder: sections and rows, numbered across the list ----------------------

  function fromTemplate(selector, form) {
    var template = form.querySelector(selector);
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML;
    return holder.firstElementChild;
  }

  function renumber(form) {
    var number = 0;
    var filled = 0;
    form.querySelectorAll("[data-list-section]").forEach(function (section, s) {
      var label = section.querySelector("legend [data-label]");
      if (label) label.textContent = label.dataset.label.replace("__SN__", String(s + 1));
      var title = section.querySelector('[data-name="section-__S__-title"]');
      if (title) title.name = "section-" + s + "-title";
      section.querySelectorAll("[data-list-row]").forEach(function (row, r) {
        number += 1;
        row.querySelectorAll("[data-label]").forEach(function (node) {
          node.textContent = node.dataset.label.replace("__N__", String(number));
        });
        row.querySelectorAll("[data-name]").forEach(function (field) {
          field.name = field.dataset.name.replace("__S__", String(s)).replace("__R__", String(r));
          if (/-title$/.test(field.name) && field.value.trim()) filled += 1;
        });
      });
    });
    var max = Number(form.dataset.maxRows || 10);
    var full = number >= max;
    form.querySelectorAll("[data-list-add-row]").forEach(function (button) { button.disabled = full; });
    var addSection = form.querySelector("[data-list-add-section]");
    if (addSection) {
      addSection.disabled = full || form.querySelectorAll("[data-list-section]").length >= Number(form.dataset.maxSections || 10);
    }
    var count = form.querySelector("[data-list-count]");
    if (count) count.textContent = count.dataset.label.replace("__C__", String(filled));
  }

  function bindListBuilder() {
    var form = document.querySelector(".composer-list-form");
    if (!form || form.dataset.bound) return;
    form.dataset.bound = "1";
    form.addEventListener("click", function (event) {
      var target = event.target.closest("button");
      if (!target || !form.contains(target)) return;
      if (target.hasAttribute("data-list-add-row")) {
        event.preventDefault();
        var row = fromTemplate("[data-list-row-template]", form);
        target.parentNode.insertBefore(row, target);
        renumber(form);
        row.querySelector("input").focus();
      } else if (target.hasAttribute("data-list-add-section")) {
        event.preventDefault();
        var section = fromTemplate("[data-list-section-template]", form);
        form.querySelector("[data-list-sections]").appendChild(section);
        renumber(form);
        section.querySelector("input").focus();
      }
    });
    form.addEventListener("input", function () { renumber(form); });
    renumber(form);
  }
})();
