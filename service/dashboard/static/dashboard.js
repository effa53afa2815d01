// The Policy Tracker dashboard: reads the public API and draws with plain DOM and SVG.
"use strict";

const API = "/api/v1";
const SVG = "http://www.w3.org/2000/svg";

async function getJSON(path) {
  const response = await fetch(API + path, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    throw new Error(`${path}: HTTP ${response.status}`);
  }
  return response.json();
}

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    node.setAttribute(name, value);
  }
  if (text !== undefined && text !== null) {
    node.textContent = text;
  }
  return node;
}

function percent(value) {
  return value === null || value === undefined ? "no known progress" : `${Math.round(value)} %`;
}

function showError(container, error) {
  container.replaceChildren(element("li", { class: "error" }, `Could not load: ${error.message}`));
}

async function drawAgreements() {
  const list = document.getElementById("agreements");
  try {
    const page = await getJSON("/agreements?page_size=200");
    list.replaceChildren();
    for (const agreement of page.items) {
      const item = element("li", { class: "agreement", "data-agreement": agreement.slug });
      item.append(element("div", { class: "agreement-title" }, agreement.title));
      item.append(element("div", { class: "agreement-meta" },
        `${agreement.doc_type.replaceAll("_", " ")} · ${agreement.lifecycle_status.replaceAll("_", " ")} · ${percent(agreement.progress)}`));
      const bar = element("div", { class: "progress", role: "progressbar", "aria-valuemin": "0",
        "aria-valuemax": "100", "aria-valuenow": String(Math.round(agreement.progress || 0)) });
      bar.append(element("div", { class: "progress-fill", style: `width: ${agreement.progress || 0}%` }));
      item.append(bar);
      list.append(item);
    }
    if (!page.items.length) {
      list.replaceChildren(element("li", {}, "No agreement yet."));
    }
  } catch (error) {
    showError(list, error);
  }
}

async function drawStatusChart() {
  const chart = document.getElementById("status-chart");
  const summary = await getJSON("/stats/summary");
  document.getElementById("status-summary").textContent =
    `${summary.total} commitments · weighted progress ${percent(summary.progress)} · ${summary.overdue} overdue`;
  const width = 680, height = 300, top = 20, bottom = 100, left = 30;
  const slot = (width - left) / summary.by_status.length;
  const highest = Math.max(1, ...summary.by_status.map((entry) => entry.count));
  chart.replaceChildren();
  summary.by_status.forEach((entry, index) => {
    const barHeight = ((height - top - bottom) * entry.count) / highest;
    const x = left + index * slot + slot * 0.15;
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("class", "status-bar");
    rect.setAttribute("data-status", entry.status);
    rect.setAttribute("data-count", String(entry.count));
    rect.setAttribute("x", String(x));
    rect.setAttribute("y", String(height - bottom - Math.max(barHeight, 1)));
    rect.setAttribute("width", String(slot * 0.7));
    rect.setAttribute("height", String(Math.max(barHeight, 1)));
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${entry.status.replaceAll("_", " ")}: ${entry.count}`;
    rect.append(title);
    chart.append(rect);
    const count = document.createElementNS(SVG, "text");
    count.setAttribute("class", "chart-label");
    count.setAttribute("x", String(x + slot * 0.35));
    count.setAttribute("y", String(height - bottom - Math.max(barHeight, 1) - 4));
    count.setAttribute("text-anchor", "middle");
    count.textContent = String(entry.count);
    chart.append(count);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("class", "chart-label");
    label.setAttribute("transform", `translate(${x + slot * 0.35}, ${height - bottom + 12}) rotate(40)`);
    label.textContent = entry.status.replaceAll("_", " ");
    chart.append(label);
  });
}

async function sourcesOf(assessment, cache) {
  return Promise.all(assessment.source_ids.map(async (id) => {
    if (!cache.has(id)) {
      cache.set(id, await getJSON(`/sources/${id}`));
    }
    return cache.get(id);
  }));
}

async function drawTimeline(commitmentId, cache) {
  const timeline = document.getElementById("timeline");
  const page = await getJSON(`/commitments/${commitmentId}/assessments?page_size=200`);
  const assessments = page.items.slice().sort((a, b) =>
    (a.as_of + a.assessed_at).localeCompare(b.as_of + b.assessed_at));
  timeline.replaceChildren();
  if (!assessments.length) {
    timeline.append(element("li", { class: "note" }, "Not assessed yet."));
    return;
  }
  for (const assessment of assessments) {
    const item = element("li", { class: "timeline-item", "data-assessment": String(assessment.id) });
    const head = element("div");
    head.append(element("span", { class: "timeline-when" }, assessment.as_of));
    head.append(element("span", { class: "timeline-status" }, assessment.status.replaceAll("_", " ")));
    head.append(document.createTextNode(` · ${assessment.assessor_kind}, ${assessment.confidence} confidence`
      + (assessment.superseded_by_id ? " · corrected later" : "")));
    item.append(head);
    if (assessment.rationale) {
      item.append(element("p", {}, assessment.rationale));
    }
    const sources = await sourcesOf(assessment, cache);
    if (sources.length) {
      const list = element("ul", { class: "timeline-sources" });
      for (const source of sources) {
        const entry = element("li", { class: "timeline-source" });
        entry.append(element("a", { href: source.url, rel: "noreferrer noopener" }, source.title));
        entry.append(document.createTextNode(source.publisher ? ` (${source.publisher})` : ""));
        list.append(entry);
      }
      item.append(list);
    }
    timeline.append(item);
  }
}

async function setUpTimeline() {
  const select = document.getElementById("commitment");
  const page = await getJSON("/commitments?page_size=200");
  const cache = new Map();
  for (const commitment of page.items) {
    select.append(element("option", { value: String(commitment.id) },
      `${commitment.title} (${commitment.current_status.replaceAll("_", " ")})`));
  }
  const assessed = page.items.find((commitment) => commitment.current_assessment_id !== null);
  if (assessed) {
    select.value = String(assessed.id);
  }
  select.addEventListener("change", () => drawTimeline(select.value, cache));
  if (select.value) {
    await drawTimeline(select.value, cache);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  drawAgreements();
  drawStatusChart().catch((error) => {
    document.getElementById("status-summary").textContent = `Could not load: ${error.message}`;
  });
  setUpTimeline().catch((error) => showError(document.getElementById("timeline"), error));
});
