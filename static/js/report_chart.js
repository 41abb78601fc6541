/* A report's chart (templates/reports/report.html), drawn with Chart.js from the page's json_script data.
 *
 * The data (appointments/reports/views.py chart_data): kind "bar" or "line", labels (texts, dates
 * already day first), datasets {label, values}, stacked, percent (y from 0 to 100), yTitle, rtl.
 * The options every chart shares (Latin digits, right to left in Arabic) come from chart_defaults.js.
 * The tables below the chart hold its figures.
 */
(function () {
  "use strict";

  var COLOURS = ["#0d6efd", "#dc3545", "#fd7e14", "#198754", "#6f42c1", "#20c997", "#6c757d", "#d63384"];

  function draw() {
    var source = document.getElementById("report-chart-data");
    var canvas = document.getElementById("report-chart");
    if (!source || !canvas || typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var line = data.kind === "line";
    var suffix = data.percent ? "%" : "";
    var chart = new Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (dataset, index) {
          var colour = COLOURS[index % COLOURS.length];
          return {
            label: dataset.label,
            data: dataset.values,
            backgroundColor: colour,
            borderColor: colour,
            spanGaps: true,
            tension: 0.2
          };
        })
      },
      options: ChartDefaults.options(data.rtl, {
        maintainAspectRatio: false,
        plugins: {
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed.y === null ? "-" : context.formattedValue + suffix;
                return context.dataset.label + ": " + value;
              }
            }
          }
        },
        scales: {
          x: { stacked: data.stacked },
          y: {
            stacked: data.stacked,
            beginAtZero: true,
            min: data.percent ? 0 : undefined,
            max: data.percent ? 100 : undefined,
            title: { display: Boolean(data.yTitle), text: data.yTitle },
            ticks: {
              precision: data.percent ? undefined : 0,
              callback: function (value) {
                return value + suffix;
              }
            }
          }
        }
      })
    });
    canvas.dataset.chartReady = "true";
    canvas.reportChart = chart;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
