// Draws a programme plan's dashboard: the page names its plotly figure (JSON, from this server) in
// data-figure; no inline script, as the page's Content-Security-Policy allows this server's scripts only.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var target = document.getElementById("dashboard");
  if (!target || !window.Plotly) {
    return;
  }
  fetch(target.dataset.figure, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("the dashboard answered " + response.status);
      }
      return response.json();
    })
    .then(function (figure) {
      window.Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
    })
    .catch(function (error) {
      target.textContent = "The dashboard could not be drawn: " + error.message;
    });
});
