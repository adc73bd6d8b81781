/* qunyun dashboard: draws every [data-chart] element from the JSON embedded next to it.
   The page embeds {"name", "dates", "values"}; ECharts is the vendored /static/vendor/echarts.min.js. */
(function () {
  "use strict";
  function draw(el) {
    var src = document.getElementById(el.dataset.chart);
    if (!src || typeof echarts === "undefined") { return; }
    var series = JSON.parse(src.textContent || "{}");
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var empty = !series.values || series.values.length === 0;
    chart.setOption({
      animationDuration: 400,
      color: ["#2563eb"],
      grid: { left: 56, right: 24, top: 24, bottom: 40 },
      tooltip: { trigger: "axis" },
      title: empty ? { text: el.dataset.empty || "", left: "center", top: "middle",
                       textStyle: { color: "#94a3b8", fontSize: 14, fontWeight: "normal" } } : undefined,
      xAxis: { type: "category", data: series.dates || [], boundaryGap: false,
               axisLabel: { color: "#64748b", formatter: function (v) { return v.slice(5); } } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#64748b" },
               splitLine: { lineStyle: { color: "#eef2f7" } } },
      series: [{ name: series.name || "", type: "line", smooth: 0.25, showSymbol: false,
                 data: series.values || [], areaStyle: { opacity: 0.12 }, lineStyle: { width: 2 } }]
    });
    // lets tests and screenshots wait until the line is fully drawn (after the animation)
    chart.on("finished", function () { el.dataset.rendered = "1"; });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function init() {
    var nodes = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < nodes.length; i++) { draw(nodes[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
