// The assessment's score as the cadre types the actual values (the server computes
// the one that counts): Σ weight × min(actual / target, 1) ÷ Σ weight × 100.
// A static file, not an inline <script>: the Content-Security-Policy allows script-src 'self' only.
"use strict";
(function () {
  var preview = document.getElementById("project-score-preview");
  if (!preview) return;
  var inputs = document.querySelectorAll("input[data-target][data-weight]");
  function update() {
    var achieved = 0, total = 0, complete = true;
    inputs.forEach(function (input) {
      var target = parseFloat(input.dataset.target);
      var weight = parseFloat(input.dataset.weight);
      var actual = parseFloat(input.value);
      total += weight;
      if (isNaN(actual) || actual < 0) { complete = false; return; }
      achieved += weight * Math.min(actual / target, 1);
    });
    preview.textContent = complete && total > 0
      ? "按当前填写的实际值，考核得分约为 " + (achieved / total * 100).toFixed(1) + " 分"
      : "填写全部实际值后显示预计得分";
  }
  inputs.forEach(function (input) { input.addEventListener("input", update); });
  update();
})();
