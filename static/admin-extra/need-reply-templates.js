// Picking a reply template fills its text box at once; without JavaScript the
// "套用" button reloads the page with ?template=<id>, which fills it on the server.
// A static file, not an inline <script>: the Content-Security-Policy allows script-src 'self' only.
"use strict";
document.querySelectorAll("select[data-template-target]").forEach(function (select) {
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    var target = document.getElementById(select.dataset.templateTarget);
    if (target && option.value) {
      target.value = option.dataset.body;
      target.focus();
    }
  });
});
