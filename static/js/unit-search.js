// Employer suggestions: as the worker types, ask the server for matching names and offer
// them in the field's <datalist>. Without JavaScript the field still works: a name typed
// in full is matched on the server, and an unknown one asks for the workstation.
(function () {
  "use strict";
  var DELAY_MS = 200;

  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.dataset.unitSearch;
    if (!list || !url) return;
    var timer = null;
    var asked = "";

    function fill(names) {
      list.replaceChildren.apply(
        list,
        names.map(function (name) {
          var option = document.createElement("option");
          option.value = name;
          return option;
        })
      );
    }

    function ask() {
      var query = input.value.trim();
      if (!query || query === asked) return;
      asked = query;
      fetch(url + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (asked === query) fill(data.results || []); })
        .catch(function () { /* suggestions are a convenience; typing still works */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });
  }

  document.querySelectorAll("input[data-unit-search]").forEach(attach);
})();
