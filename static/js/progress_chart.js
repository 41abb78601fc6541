/* The patient chart's progress charts (templates/core/_patient_progress.html), drawn with Chart.js
 * from the page's json_script "progress-chart-data" (appointments/progress_section.py).
 *
 * Each entry: canvas (its id), kind ("percent" 0-100, "rating" 0-10, "risk" a step line over the
 * levels named by "steps"), label (the target), max, and points {x (day first), y, value, detail}.
 * The tooltip gives the value and its detail (an ABA target's trials, the risk's level). The options
 * every chart shares (Latin digits, right to left in Arabic) come from chart_defaults.js. The tables
 * under the charts hold the same figures.
 */
(function () {
  "use strict";

  var COLOURS = { percent: "#0d6efd", rating: "#198754", risk: "#dc3545" };

  function tick(entry) {
    return function (value) {
      if (entry.kind === "risk") {
        return entry.steps[value] === undefined ? "" : entry.steps[value];
      }
      return entry.kind === "percent" ? value + "%" : value;
    };
  }

  function draw(entry, rtl) {
    var canvas = document.getElementById(entry.canvas);
    if (!canvas) {
      return;
    }
    var colour = COLOURS[entry.kind] || COLOURS.percent;
    var chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: entry.points.map(function (point) {
          return point.x;
        }),
        datasets: [
          {
            label: entry.label,
            data: entry.points.map(function (point) {
              return point.y;
            }),
            borderColor: colour,
            backgroundColor: colour,
            stepped: entry.kind === "risk",
            spanGaps: true,
            tension: 0
          }
        ]
      },
      options: ChartDefaults.options(rtl, {
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (context) {
                var point = entry.points[context.dataIndex];
                if (entry.kind === "risk") {
                  return point.detail;
                }
                return point.value + (point.detail && point.detail !== point.value ? " (" + point.detail + ")" : "");
              }
            }
          }
        },
        scales: {
          // offset: half a step of room at each end, so the first and last days show whole.
          x: { offset: true },
          y: {
            min: 0,
            max: entry.max,
            ticks: { stepSize: entry.kind === "percent" ? 20 : entry.kind === "rating" ? 2 : 1, callback: tick(entry) }
          }
        }
      })
    });
    canvas.dataset.chartReady = "true";
    canvas.progressChart = chart;
  }

  function drawAll() {
    var source = document.getElementById("progress-chart-data");
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    data.charts.forEach(function (entry) {
      draw(entry, data.rtl);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
