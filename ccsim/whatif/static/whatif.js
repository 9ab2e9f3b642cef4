// The what-if page: sends the form to the server (which validates it: the browser is not
// trusted), polls the running comparison for the progress bar, shows the results and keeps
// the history. No framework and no build step: the page must work offline from the package.
"use strict";

const $ = (id) => document.getElementById(id);
const inputs = [...document.querySelectorAll("#form input")];
const POLL_MS = 500;
let watching = null;  // the run whose progress is shown
let shown = null;     // the run whose results are shown
let watchedSince = 0;

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

function say(message, bad) {
  $("message").textContent = message || "";
  $("message").className = bad ? "bad" : "";
}

// "11.0" for 11 is no change: the server compares parsed values and runs nothing for it,
// so the field is not marked either (other spellings, such as 300s for 5min, it judges).
function sameNumber(typed, base) {
  if (typed === base) return true;
  const number = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
  return number.test(typed) && number.test(base) && Number(typed) === Number(base);
}

function markChanged() {
  let changed = 0;
  for (const input of inputs) {
    const field = input.closest(".field");
    const differs = !sameNumber(input.value.trim(), input.dataset.base);
    field.classList.toggle("changed", differs);
    changed += differs;
  }
  $("changed-count").textContent = changed ? `${changed} input(s) changed from the base` : "";
}

function clearErrors() {
  for (const field of document.querySelectorAll(".field")) {
    field.classList.remove("invalid");
    field.querySelector(".error").textContent = "";
  }
}

function showErrors(errors) {
  for (const [path, message] of Object.entries(errors)) {
    const field = document.querySelector(`.field[data-path="${CSS.escape(path)}"]`);
    if (!field) continue;
    field.classList.add("invalid");
    field.querySelector(".error").textContent = message;
  }
}

async function call(method, url, body) {
  const options = {method, headers: {"Content-Type": "application/json"}};
  if (body !== undefined) options.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    return {ok: false, status: 0, data: {message: "the what-if server does not answer: is it still running?"}};
  }
  let data;
  try {
    data = await response.json();
  } catch (error) {
    data = {message: `${response.status} ${response.statusText}`};
  }
  return {ok: response.ok, status: response.status, data};
}

async function run() {
  clearErrors();
  const values = Object.fromEntries(inputs.map((input) => [input.name, input.value]));
  const answer = await call("POST", "/api/run", values);
  if (!answer.ok) {
    if (answer.data.errors) showErrors(answer.data.errors);
    say(answer.data.message, true);
    if (answer.status === 409) refreshHistory(true);
    return;
  }
  say(`run ${answer.data.id} started`);
  $("result").hidden = true;  // the results shown are those of the form as it now stands
  watch(answer.data);
}

function watch(status) {
  watching = status.id;
  watchedSince = Date.now();
  $("run").disabled = true;
  $("progress").hidden = false;
  $("cancel").disabled = false;
  progress(status);
  refreshHistory(false);
  setTimeout(poll, POLL_MS);
}

function progress(status) {
  const share = status.total ? Math.min(1, status.done / status.total) : 0;
  $("bar-fill").style.width = `${(100 * share).toFixed(1)}%`;
  $("progress").dataset.done = status.done;
  $("progress").dataset.total = status.total;
  const seconds = Math.round((Date.now() - watchedSince) / 1000);
  $("progress-text").textContent = status.total && status.done >= status.total
    ? `run ${status.id}: ${status.done} replications (base and variant) done, writing the tables and the figure, ${seconds} s`
    : `run ${status.id}: ${status.done} of at most ${status.total} replications (base and variant), ${seconds} s`;
}

async function poll() {
  if (watching === null) return;
  const answer = await call("GET", `/api/runs/${watching}`);
  if (!answer.ok) {
    say(answer.data.message, true);
    setTimeout(poll, 4 * POLL_MS);
    return;
  }
  const status = answer.data;
  progress(status);
  if (status.state === "running") {
    setTimeout(poll, POLL_MS);
    return;
  }
  watching = null;
  $("run").disabled = false;
  $("progress").hidden = true;
  if (status.state === "done") {
    say("");
    showResult(status);
  } else {
    say(`run ${status.id} ${status.state}${status.message ? ": " + status.message : ""}`,
        status.state === "failed");
  }
  refreshHistory(false);
}

async function cancel() {
  if (watching === null) return;
  $("cancel").disabled = true;
  const answer = await call("POST", `/api/runs/${watching}/cancel`);
  if (!answer.ok) say(answer.data.message, true);
}

function cell(row, which) {
  const td = document.createElement("td");
  td.append(row[which] + " ", text("span", row[`${which}_half_width`], "hw"));
  return td;
}

function showResult(status) {
  say("");  // a message about the form (a refused Run) is not about these results
  const result = status.result;
  shown = status.id;
  $("result").hidden = false;
  $("result").dataset.run = status.id;
  $("result").dataset.replications = result.replications;
  $("result-title").textContent =
    `Run ${status.id}: base against variant, ${result.replications} replications, seed ${result.seed}`;
  $("result-changes").replaceChildren(...status.changes.map((line) => text("li", line)));
  $("rule").textContent = result.rule;
  $("currency").textContent = `Amounts in ${result.currency}.`;
  const body = $("kpis").querySelector("tbody");
  body.replaceChildren();
  let channel = null;
  for (const row of result.rows) {
    const tr = document.createElement("tr");
    tr.dataset.channel = row.channel;
    tr.dataset.kpi = row.kpi;
    for (const [key, value] of Object.entries(row.values)) {
      tr.dataset[key.replace(/_(.)/g, (m, c) => c.toUpperCase())] = value;
    }
    tr.dataset.significant = row.significant;
    if (row.significant) tr.classList.add("significant");
    if (row.channel !== channel && channel !== null) tr.classList.add("group-start");
    tr.append(text("td", row.channel === channel ? "" : row.channel), text("td", row.label));
    channel = row.channel;
    tr.append(cell(row, "base"), cell(row, "variant"));
    const difference = text("td", row.difference, "difference");
    if (row.relative) difference.append(" ", text("span", `(${row.relative})`, "rel"));
    difference.append(text("span", row.interval, "ci"));
    tr.append(difference);
    const p = text("td", row.p_holm, "p");
    if (row.p_value) {
      p.append(text("span", `(${row.p_value})`, "ci"));
      p.title = `Holm over the ${row.family} comparisons of ${row.label} in this run`;
    }
    tr.append(p);
    body.append(tr);
  }
  // The figure is drawn by ccsim (matplotlib's SVG), not by anything typed in the page.
  $("svg").innerHTML = result.service_level_svg;
  showSaved(status.saved);
  $("save").disabled = false;
  for (const li of $("history").children) {
    li.classList.toggle("shown", Number(li.dataset.run) === shown);
  }
}

function showSaved(saved) {
  $("saved").replaceChildren();
  if (!saved) return;
  $("saved").append(text("li", `scenario: ${saved.scenario}`), text("li", `experiment: ${saved.experiment}`));
  $("saved").dataset.scenario = saved.scenario;
  $("saved").dataset.experiment = saved.experiment;
}

async function save() {
  if (shown === null) return;
  $("save").disabled = true;
  const answer = await call("POST", `/api/runs/${shown}/save`);
  $("save").disabled = false;
  if (!answer.ok) {
    say(answer.data.message, true);
    return;
  }
  showSaved(answer.data);
  say(`saved run ${shown}: rerun it with: ccsim experiment ${answer.data.experiment}`);
}

async function show(number) {
  const answer = await call("GET", `/api/runs/${number}`);
  if (!answer.ok) {
    say(answer.data.message, true);
  } else if (answer.data.state === "done") {
    showResult(answer.data);
  } else if (answer.data.state === "running") {
    if (watching === null) watch(answer.data);
  } else {
    say(`run ${number} ${answer.data.state}${answer.data.message ? ": " + answer.data.message : ""}`);
  }
}

async function refreshHistory(adoptRunning) {
  const answer = await call("GET", "/api/runs");
  if (!answer.ok) return;
  const items = [];
  for (const status of answer.data.slice().reverse()) {
    const li = document.createElement("li");
    li.value = status.id;
    li.dataset.run = status.id;
    li.dataset.state = status.state;
    li.append(text("span", status.changes.join("; "), "what"));
    const outcome = status.state === "done" ? status.headline.join(" · ") : status.state;
    li.append(text("span", outcome, "outcome"));
    li.classList.toggle("shown", status.id === shown);
    li.addEventListener("click", () => show(status.id));
    items.push(li);
    // A run started from another tab: follow its progress here too.
    if (adoptRunning && status.state === "running" && watching === null) watch(status);
  }
  $("history").replaceChildren(...items);
  $("history-empty").hidden = items.length > 0;
}

function reset() {
  for (const input of inputs) input.value = input.dataset.base;
  say("");
  clearErrors();
  markChanged();
}

for (const input of inputs) input.addEventListener("input", markChanged);
$("form").addEventListener("submit", (event) => { event.preventDefault(); run(); });
$("form").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !$("run").disabled) { event.preventDefault(); run(); }
});
$("run").addEventListener("click", run);
$("cancel").addEventListener("click", cancel);
$("save").addEventListener("click", save);
$("reset").addEventListener("click", reset);
markChanged();
refreshHistory(true);
