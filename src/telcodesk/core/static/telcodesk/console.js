/* telcodesk console: keyboard shortcuts only. Everything works without this file.
   "/"          focus the customer search
   ArrowDown    from the search box, move into the live results (ArrowUp/Down to walk)
   Escape       leave the results / close an open menu */
(function () {
  "use strict";

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function searchBox() { return document.getElementById("global-search"); }
  function resultLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#search-popover a"));
  }

  document.addEventListener("keydown", function (event) {
    var search = searchBox();
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey &&
        !isTyping(document.activeElement) && search) {
      event.preventDefault();
      search.focus();
      search.select();
      return;
    }

    var links = resultLinks();
    var index = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && (document.activeElement === search || index >= 0) && links.length) {
      event.preventDefault();
      links[Math.min(index + 1, links.length - 1)].focus();
      return;
    }
    if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      if (index === 0) { search.focus(); } else { links[index - 1].focus(); }
      return;
    }

    if (event.key === "Escape") {
      var open = document.querySelector("details.user-menu[open]");
      if (open) {
        open.removeAttribute("open");
        open.querySelector("summary").focus();
        return;
      }
      if (search && (document.activeElement === search || index >= 0)) {
        search.focus();
        search.blur();
      }
    }
  });

  // Close the user menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // After an htmx swap, move focus to the first field reported invalid, so a keyboard
  // user lands on the error they have to fix.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.target.querySelector("[aria-invalid='true']");
    if (invalid) invalid.focus();
  });
})();
