// django-import-export's "select all" box on the export page calls onSelectToggleChange
// from an inline onchange="" attribute, which the Content-Security-Policy (script-src 'self')
// blocks; the same handler is attached here instead. onSelectToggleChange comes from the
// package's export_selectable_fields.js, loaded before this deferred file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (typeof onSelectToggleChange !== "function") return;
  document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", onSelectToggleChange);
  });
});
