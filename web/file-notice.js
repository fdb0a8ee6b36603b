// Opened as a file:// URL the browser refuses the page's modules, so nothing would run and nothing would say why: this classic script says so.
//
// It sets window.piError as a bad query does, so that a program waiting for a result stops waiting.
"use strict";

if (location.protocol === "file:") {
  const message =
    "This page cannot run from a file: the browser does not load its modules there. " +
    "Serve it over HTTP: `python -m pi web` (from the installed package), or " +
    "`python3 -m http.server` at the repository root and open /web/index.html.";
  const error = document.getElementById("error");
  error.textContent = message;
  error.hidden = false;
  document.getElementById("status").textContent = "Not running: opened as a file.";
  document.getElementById("run").disabled = true;
  window.piError = `page: opened as a file:// URL; serve it over HTTP (python -m pi web)`;
}
