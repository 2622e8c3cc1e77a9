// The query page: runs the query with the chosen Accept header (the protocol negotiates by header),
// shows SPARQL JSON results as a table whose IRIs of this graph link to their pages, and loads an
// example named in the URL fragment (#example=NAME) and runs it, so examples are one click from running.
"use strict";

(function () {
  const form = document.getElementById("query-form");
  const editor = document.getElementById("query");
  const accept = document.getElementById("accept");
  const status = document.getElementById("status");
  const table = document.getElementById("result-table");
  const raw = document.getElementById("result");
  const examples = JSON.parse(document.getElementById("example-queries").textContent);
  const base = form.dataset.base;
  const publicUrl = form.dataset.public;

  function cell(term) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      const a = document.createElement("a");
      a.href = term.value.startsWith(base) ? publicUrl + term.value.slice(base.length) : term.value;
      a.textContent = term.value.startsWith(base) ? term.value.slice(base.length) : term.value;
      td.appendChild(a);
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) td.lang = term["xml:lang"];
    }
    return td;
  }

  function showTable(results) {
    const t = document.createElement("table");
    t.className = "results-table";
    if (typeof results.boolean === "boolean") {
      status.textContent = "ASK answered " + results.boolean + ".";
      return;
    }
    const vars = results.head.vars;
    const head = t.createTHead().insertRow();
    for (const name of vars) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.appendChild(th);
    }
    const body = t.createTBody();
    for (const binding of results.results.bindings) {
      const row = body.insertRow();
      for (const name of vars) row.appendChild(cell(binding[name]));
    }
    table.appendChild(t);
    const n = results.results.bindings.length;
    status.textContent = n + (n === 1 ? " row." : " rows.");
  }

  async function run() {
    const wanted = accept.value === "table" ? "application/sparql-results+json" : accept.value;
    table.replaceChildren();
    raw.hidden = true;
    status.textContent = "Running…";
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        headers: {"Content-Type": "application/sparql-query", "Accept": wanted},
        body: editor.value,
      });
    } catch (error) {
      status.textContent = "The endpoint could not be reached: " + error.message;
      return;
    }
    const text = await response.text();
    if (!response.ok) {
      status.textContent = response.status + " " + response.statusText + ": " + text;
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (accept.value === "table" && type.startsWith("application/sparql-results+json")) {
      showTable(JSON.parse(text));
    } else {
      raw.textContent = text;
      raw.hidden = false;
      status.textContent = "Answered as " + type + ".";
    }
  }

  function loadExample() {
    const match = /^#example=([\w.-]+)$/.exec(window.location.hash);
    if (!match) return false;
    const example = examples.find((e) => e.name === match[1]);
    if (!example) return false;
    editor.value = example.text;
    accept.value = "table";
    return true;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  window.addEventListener("hashchange", () => { if (loadExample()) run(); });
  if (loadExample()) run();
})();
