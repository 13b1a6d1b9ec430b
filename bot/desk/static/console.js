// The console's only script of its own: charts from the JSON next to each canvas. No inline
// script anywhere (the Content-Security-Policy forbids it); htmx is configured by a meta tag.
(function () {
  "use strict";
  var PALETTE = ["#b3261e", "#e8a317", "#2e7d32", "#1565c0", "#6a1b9a", "#00838f", "#5d4037", "#455a64"];

  function draw(root) {
    if (typeof window.Chart === "undefined") { return; }
    var canvases = (root || document).querySelectorAll("canvas[data-chart]");
    canvases.forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      spec.datasets.forEach(function (d, i) {
        d.backgroundColor = PALETTE[i % PALETTE.length];
        d.borderColor = PALETTE[i % PALETTE.length];
      });
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: { x: { stacked: spec.stacked }, y: { stacked: spec.stacked, beginAtZero: true } },
          plugins: { legend: { position: "bottom" } }
        }
      });
      canvas.dataset.drawn = "1";
    });
    document.body.dataset.chartsDrawn = String(document.querySelectorAll("canvas[data-drawn]").length);
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
})();
