/* Distributor desk: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Forms marked data-confirm ask before they submit (cancel, rotate a key, ...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Unsaved edits: a page of several forms (an article's images, bios and notes) warns before
  // it is left while another form holds typed changes, so saving one block never silently
  // drops what was typed in the others.
  function changed(form) {
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "hidden" || el.type === "submit" || el.type === "button" || !el.name) {
        return false;
      }
      if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
      if (el.tagName === "SELECT") {
        return Array.prototype.some.call(el.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
      }
      return el.value !== el.defaultValue;
    });
  }
  var submitting = null;
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) { submitting = event.target; }
  });
  window.addEventListener("beforeunload", function (event) {
    var forms = document.querySelectorAll("main form[method=post]");
    var unsaved = Array.prototype.filter.call(forms, function (form) {
      return form !== submitting && changed(form);
    });
    submitting = null;
    if (unsaved.length) {
      event.preventDefault();
      event.returnValue = "";  // older browsers need a value to ask
    }
  });

  // Drag and drop of an issue's stories fills the "order by numbers" form and sends it; the Up
  // and Down buttons stay the keyboard's way to move a story.
  function enableDragOrder(list) {
    var form = document.getElementById(list.getAttribute("data-order-form"));
    var input = form && form.querySelector("input[name=order]");
    if (!input || !form.requestSubmit) { return; }
    var items = list.querySelectorAll("li[data-article-id]");
    if (items.length < 2) { return; }
    var dragged = null;
    items.forEach(function (item) {
      item.setAttribute("draggable", "true");
      item.addEventListener("dragstart", function (event) {
        dragged = item;
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.getAttribute("data-article-id"));
        item.classList.add("dragging");
      });
      item.addEventListener("dragend", function () {
        item.classList.remove("dragging");
        dragged = null;
      });
      item.addEventListener("dragover", function (event) {
        if (dragged && dragged !== item) {
          event.preventDefault();
          item.classList.add("drop-target");
        }
      });
      item.addEventListener("dragleave", function () { item.classList.remove("drop-target"); });
      item.addEventListener("drop", function (event) {
        item.classList.remove("drop-target");
        if (!dragged || dragged === item) { return; }
        event.preventDefault();
        var box = item.getBoundingClientRect();
        var after = event.clientY > box.top + box.height / 2;
        list.insertBefore(dragged, after ? item.nextSibling : item);
        input.value = Array.prototype.map.call(
          list.querySelectorAll("li[data-article-id]"),
          function (li) { return li.getAttribute("data-article-id"); }
        ).join(", ");
        form.requestSubmit();
      });
    });
  }

  // "Copy" buttons: copy the named field's text (the list page's signup form).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var id = button.getAttribute("data-copy");
    var field = document.getElementById(id);
    var said = document.querySelector('[data-copied="' + id + '"]');
    if (!field) { return; }
    field.select();
    var done = function () { if (said) { said.textContent = "Copied."; } };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        if (said) { said.textContent = "Selected: press Ctrl+C (⌘C) to copy."; }
      });
    } else if (said) {
      said.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });

  // Live sending progress: poll the JSON endpoint and fill the [data-field] elements.
  function startProgress(box) {
    var url = box.getAttribute("data-progress-url");
    var startStatus = box.getAttribute("data-status");
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          Object.keys(data).forEach(function (key) {
            box.querySelectorAll('[data-field="' + key + '"]').forEach(function (el) {
              if (el.tagName === "PROGRESS") {
                el.value = Number(data[key]) || 0;
              } else {
                el.textContent = data[key];
              }
            });
          });
          var bar = box.querySelector("progress");
          if (bar && data.total !== undefined) { bar.max = Math.max(1, Number(data.total)); }
          // Any change of state (scheduled -> sending -> sent) shows the page for the new state.
          if (data.status && data.status !== startStatus) {
            window.location.reload();
            return;
          }
          window.setTimeout(tick, 2000);
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    tick();
  }

  // Email previews keep their real width (800 px, a 375 px phone) and are scaled down to fit a
  // narrower screen, so the desktop layout stays the desktop layout on a phone.
  function fitPreviews() {
    document.querySelectorAll(".preview-fit").forEach(function (box) {
      var frame = box.querySelector("iframe");
      var natural = frame && Number(frame.getAttribute("data-natural-width"));
      if (!natural) { return; }
      var scale = Math.min(1, box.clientWidth / natural);
      var note = box.parentNode.querySelector(".preview-scale");
      if (scale < 1) {
        box.classList.add("scaled");
        frame.style.transform = "scale(" + scale + ")";
        box.style.height = Math.ceil(frame.offsetHeight * scale) + "px";
        if (note) {
          // The page gives the words in its language ("%(percent)s" stands for the figure).
          var words = note.getAttribute("data-shown-at") || ", shown at %(percent)s %";
          note.textContent = words.replace("%(percent)s", String(Math.round(scale * 100)));
        }
      } else {
        box.classList.remove("scaled");
        frame.style.transform = "";
        box.style.height = "";
        if (note) { note.textContent = ""; }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress-url]").forEach(startProgress);
    fitPreviews();
    document.querySelectorAll("ol[data-order-form]").forEach(enableDragOrder);
    window.addEventListener("resize", fitPreviews);
  });
})();
