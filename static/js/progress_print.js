// The printable progress report (templates/core/patient_progress_print.html): one line chart per
// discipline's targets, drawn without animation so that what is printed is the finished chart, and
// the "Print" button. The data comes from the page's json_script "progress-report-data".
// When every chart is drawn, <article data-charts-ready="true"> tells a waiting test (or anyone)
// that the page is ready for paper.
(function () {
  "use strict";
  const report = document.querySelector("[data-testid=progress-report]");
  const source = document.getElementById("progress-report-data");
  if (!report || !source || typeof Chart === "undefined") { return; }

  const rtl = document.documentElement.dir === "rtl";
  // Latin digits in both languages, as on the rest of the site.
  const locale = rtl ? "ar-u-nu-latn" : "en-GB";
  const colours = ["#0d6efd", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#6c757d"];
  const charts = [];

  JSON.parse(source.textContent).forEach(function (data) {
    const canvas = document.getElementById(data.canvas);
    if (!canvas) { return; }
    const percent = data.max === 100;
    charts.push(new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.lines.map(function (line, index) {
          const colour = colours[index % colours.length];
          return {
            label: line.label,
            data: line.points,
            borderColor: colour,
            backgroundColor: colour,
            spanGaps: true,
            tension: 0,
          };
        }),
      },
      options: ChartDefaults.options(rtl, {
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: 2.6,
        // Sharp on paper: printers have more dots than screens.
        devicePixelRatio: Math.max(window.devicePixelRatio || 1, 2),
        locale: locale,
        plugins: {
          legend: { position: "bottom" },
        },
        scales: {
          // The first and last days inset from the edges, so their labels are not cut.
          x: { offset: true },
          y: {
            min: 0,
            max: data.max === null ? undefined : data.max,
            ticks: {
              callback: function (value) { return percent ? value + "%" : value; },
            },
          },
        },
      }),
    }));
  });

  // Paper is narrower than the screen: redraw at the printed width before printing, and back after.
  function resizeAll() { charts.forEach(function (chart) { chart.resize(); }); }
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);

  const print = document.getElementById("progress-report-print");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
  report.dataset.chartsReady = "true";
})();
