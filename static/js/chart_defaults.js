/* What every chart on the site shares, loaded after Chart.js and before the page's own script
 * (report_chart.js, progress_chart.js, progress_print.js).
 *
 * ChartDefaults.options(rtl, own) gives a chart's options: no animation, numbers with Latin digits
 * in both languages (locale "en"), and in Arabic (rtl) the legend and tooltips running right to left,
 * the x axis starting on the right and the y axis on the right; the chart's ``own`` options are merged
 * in over these and win.
 */
(function () {
  "use strict";

  window.ChartDefaults = {
    options: function (rtl, own) {
      var direction = rtl ? "rtl" : "ltr";
      var shared = {
        locale: "en",
        animation: false,
        plugins: {
          legend: { rtl: rtl, textDirection: direction },
          tooltip: { rtl: rtl, textDirection: direction }
        },
        scales: {
          x: { reverse: rtl },
          y: { position: rtl ? "right" : "left" }
        }
      };
      return Chart.helpers.merge(shared, own);
    }
  };
})();
