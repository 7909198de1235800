/* The leads board: drag a card onto a column to move it. Dropping selects the column's
   stage in the card's "Move to…" form and submits it, so htmx posts exactly what the
   keyboard path posts; without this file the form still works on its own. */
(function () {
  "use strict";
  var dragged = null;

  function columnOf(target) {
    return target && target.closest ? target.closest(".board-column") : null;
  }

  function clearOver() {
    document.querySelectorAll(".board-column.is-over").forEach(function (column) {
      column.classList.remove("is-over");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target && event.target.closest ? event.target.closest(".lead-card[draggable='true']") : null;
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.leadId);
    card.classList.add("is-dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearOver();
  });

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("is-over")) {
      clearOver();
      column.classList.add("is-over");
    }
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    clearOver();
    var form = dragged.querySelector("form.lead-card-move");
    var stageId = column.dataset.stageId;
    if (!form || stageId === dragged.dataset.stageId) return;
    var select = form.querySelector("select[name='stage']");
    var offered = Array.prototype.some.call(select.options, function (option) {
      return option.value === stageId;
    });
    if (!offered) {
      // A column the select does not offer (system, won or lost): post it anyway so the
      // server answers with the reason it is refused.
      select.add(new Option(column.dataset.stageName, stageId));
    }
    select.value = stageId;
    form.requestSubmit();
  });
})();
