// The Policy Tracker dashboard: reads the public API and draws with plain DOM and SVG.
// What the reader chose (filters, sort, page, the agreement in view) lives in the page's
// URL, so a view can be shared; every list is read to its end, page token by page token.
"use strict";

const API = "/api/v1";
const SVG = "http://www.w3.org/2000/svg";
const ROWS_PER_PAGE = 25;
const TREND_SPANS = { 24: "2 years", 60: "5 years", 120: "10 years" };
// How often the page asks the change feed what is new: one short request at a time, none
// held open (a long poll would keep a request open for as long as it waits).
const FOLLOW_EVERY_MS = 5000;
// What the URL keeps, and its defaults.
const VIEW_KEYS = ["party", "theme", "lifecycle_status", "as_of", "agreement", "commitment", "sort", "dir", "page", "months"];
const LIFECYCLE = ["proposed", "under_negotiation", "signed", "ratified", "in_force",
  "provisionally_applied", "suspended", "terminated", "expired", "superseded", "withdrawn", "unknown"];

const view = readView();
const summaries = new Map(); // agreement slug -> its figures (/stats/agreements)
let agreements = []; // every agreement the filters select
const organizationNames = new Map(); // organization id -> its name, for assessors

// --- reading the API --------------------------------------------------------------------

async function getJSON(path) {
  const response = await fetch(API + path, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    throw new Error(`${path}: HTTP ${response.status}`);
  }
  return response.json();
}

function query(params) {
  const kept = Object.entries(params).filter(([, value]) => value !== "" && value !== undefined && value !== null);
  return kept.length ? `?${new URLSearchParams(kept)}` : "";
}

// Every item of a list, following `next_page_token` to the last page.
async function allItems(path, params, pageSize = 200) {
  const items = [];
  let token = "";
  do {
    const page = await getJSON(path + query({ ...params, page_size: pageSize, page_token: token }));
    items.push(...page.items);
    token = page.next_page_token || "";
  } while (token);
  return items;
}

// --- the view in the URL ----------------------------------------------------------------

function readView() {
  const params = new URLSearchParams(window.location.search);
  const found = {};
  for (const key of VIEW_KEYS) {
    found[key] = params.get(key) || "";
  }
  found.sort = found.sort || "title";
  found.dir = found.dir === "desc" ? "desc" : "asc";
  found.page = Math.max(1, parseInt(found.page, 10) || 1);
  found.months = TREND_SPANS[found.months] ? Number(found.months) : 60;
  found.as_of = /^\d{4}-\d{2}-\d{2}$/.test(found.as_of) ? found.as_of : "";
  return found;
}

function writeView() {
  const params = {};
  for (const key of VIEW_KEYS) {
    const value = view[key];
    const isDefault = (key === "sort" && value === "title") || (key === "dir" && value === "asc")
      || (key === "page" && value === 1) || (key === "months" && value === 60);
    if (value && !isDefault) {
      params[key] = value;
    }
  }
  window.history.replaceState(null, "", window.location.pathname + query(params));
}

// The statistics' scope: the agreement in view, else the party and theme filters.
function scope() {
  if (view.agreement) {
    return { agreement: view.agreement };
  }
  return { organization: view.party, theme: view.theme };
}

// A date to its precision (YYYY, YYYY-MM or YYYY-MM-DD) as its first day, as the service
// reads an assessment's `as_of`.
function firstDay(partialDate) {
  return `${partialDate}-01-01`.slice(0, 10);
}

function knownBy(partialDate, day) {
  return !day || firstDay(partialDate) <= day;
}

function scopeLabel() {
  if (view.agreement) {
    const found = agreements.find((agreement) => agreement.slug === view.agreement);
    return found ? found.title : view.agreement;
  }
  const parts = [];
  if (view.party) parts.push(`party ${optionText("filter-party", view.party)}`);
  if (view.theme) parts.push(`theme ${optionText("filter-theme", view.theme)}`);
  return parts.length ? parts.join(", ") : "every agreement";
}

// --- small helpers ----------------------------------------------------------------------

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

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    node.setAttribute(name, String(value));
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function words(value) {
  return String(value).replaceAll("_", " ");
}

function percent(value) {
  return value === null || value === undefined ? "no known progress" : `${Math.round(value)} %`;
}

function optionText(selectId, value) {
  const option = [...document.getElementById(selectId).options].find((item) => item.value === value);
  return option ? option.textContent : value;
}

function progressBar(value, label) {
  const bar = element("div", { class: "progress", role: "progressbar", "aria-label": label,
    "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(value || 0)),
    "aria-valuetext": percent(value) });
  bar.append(element("div", { class: "progress-fill", style: `width: ${value || 0}%` }));
  return bar;
}

function monthText(date) {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
}

// --- filters ----------------------------------------------------------------------------

async function setUpFilters() {
  const [parties, themes] = await Promise.all([
    allItems("/organizations", {}), allItems("/themes", {}),
  ]);
  const fill = (id, entries) => {
    const select = document.getElementById(id);
    for (const [value, label] of entries) {
      select.append(element("option", { value }, label));
    }
  };
  fill("filter-party", parties.map((party) => [party.slug, party.short_name || party.name]));
  for (const party of parties) organizationNames.set(party.id, party.name);
  fill("filter-theme", themes.map((theme) => [theme.slug, theme.name]));
  fill("filter-lifecycle", LIFECYCLE.map((status) => [status, words(status)]));
  const controls = {
    "filter-party": "party", "filter-theme": "theme", "filter-lifecycle": "lifecycle_status", "filter-as-of": "as_of",
  };
  for (const [id, key] of Object.entries(controls)) {
    const select = document.getElementById(id);
    select.value = view[key];
    select.addEventListener("change", () => {
      view[key] = select.value;
      if (key !== "as_of") {
        view.page = 1;
        view.agreement = "";
        view.commitment = "";
      }
      refresh();
    });
  }
  document.getElementById("filters-clear").addEventListener("click", () => {
    for (const [id, key] of Object.entries(controls)) {
      view[key] = "";
      document.getElementById(id).value = "";
    }
    view.page = 1;
    view.agreement = "";
    view.commitment = "";
    refresh();
  });
}

// --- the overview -----------------------------------------------------------------------

function sorted(items) {
  const factor = view.dir === "desc" ? -1 : 1;
  const key = view.sort;
  const value = (agreement) => {
    if (key === "overdue") return summaries.get(agreement.slug)?.overdue ?? -1;
    if (key === "progress") return (summaries.get(agreement.slug) || agreement).progress ?? -1;
    return agreement[key] || "";
  };
  return items.slice().sort((a, b) => {
    const left = value(a), right = value(b);
    const order = typeof left === "number" ? left - right : String(left).localeCompare(String(right));
    return order * factor || a.id - b.id;
  });
}

// Every agreement the filters select, and the figures of each (counts by status, overdue):
// two lists with the same filters, a page of 200 per request.
async function loadOverview() {
  const filters = { party: view.party, theme: view.theme, lifecycle_status: view.lifecycle_status };
  const [found, figures] = await Promise.all([
    allItems("/agreements", filters),
    // As of a day, each page's figures are computed from its trees' histories: smaller pages.
    allItems("/stats/agreements", { ...filters, as_of: view.as_of }, view.as_of ? 50 : 200),
  ]);
  agreements = found;
  summaries.clear();
  for (const item of figures) {
    summaries.set(item.agreement.slug, item);
  }
}

function drawOverview() {
  const body = document.getElementById("overview-rows");
  const pages = Math.max(1, Math.ceil(agreements.length / ROWS_PER_PAGE));
  view.page = Math.min(view.page, pages);
  const shown = sorted(agreements).slice((view.page - 1) * ROWS_PER_PAGE, view.page * ROWS_PER_PAGE);
  document.getElementById("overview-note").textContent =
    `${agreements.length} agreement${agreements.length === 1 ? "" : "s"}`
    + (view.party || view.theme || view.lifecycle_status
      ? ` match${agreements.length === 1 ? "es" : ""} the filters` : "")
    + (view.as_of ? `; status, progress and commitments as they stood on ${view.as_of}` : "");
  document.getElementById("page-label").textContent = `Page ${view.page} of ${pages}`;
  document.getElementById("page-previous").disabled = view.page <= 1;
  document.getElementById("page-next").disabled = view.page >= pages;
  for (const header of document.querySelectorAll("#overview th[aria-sort]")) {
    const key = header.querySelector("button").dataset.sort;
    header.setAttribute("aria-sort", key === view.sort ? (view.dir === "asc" ? "ascending" : "descending") : "none");
  }
  body.replaceChildren();
  if (!shown.length) {
    body.append(messageRow("No agreement matches.", "note"));
    return;
  }
  for (const agreement of shown) {
    const summary = summaries.get(agreement.slug);
    const row = element("tr", { class: "agreement", "data-agreement": agreement.slug });
    if (agreement.slug === view.agreement) {
      row.setAttribute("aria-current", "true");
    }
    const title = element("td", { "data-label": "Agreement" });
    const link = element("a", { href: `?${new URLSearchParams({ agreement: agreement.slug })}`, class: "agreement-title" }, agreement.title);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      view.agreement = agreement.slug;
      view.commitment = "";
      refresh({ keepOverview: true });
    });
    title.append(link);
    title.append(element("div", { class: "agreement-meta" }, words(agreement.doc_type)));
    const shownProgress = summary ? summary.progress : agreement.progress;
    const progress = element("td", { "data-label": "Progress" }, percent(shownProgress));
    progress.append(progressBar(shownProgress, `Progress of ${agreement.title}`));
    const counts = element("td", { "data-label": "Commitments" });
    counts.append(statusCounts(summary));
    const overdue = summary ? String(summary.overdue) : "";
    row.append(
      title,
      element("td", { "data-label": "Status", class: "lifecycle" },
        words(summary ? summary.lifecycle_status : agreement.lifecycle_status)),
      progress,
      counts,
      element("td", { "data-label": "Overdue", class: "overdue-count", "data-overdue": overdue }, overdue),
      element("td", { "data-label": "Last change" }, agreement.updated_at.slice(0, 10)),
    );
    body.append(row);
  }
}

// An agreement's commitments by status, those it has.
function statusCounts(summary) {
  const counts = element("ul", { class: "counts" });
  for (const entry of (summary ? summary.by_status : []).filter((item) => item.count)) {
    counts.append(element("li", { "data-status": entry.status }, `${words(entry.status)} ${entry.count}`));
  }
  if (!counts.children.length) {
    counts.append(element("li", {}, "no commitment"));
  }
  return counts;
}

function messageRow(text, kind) {
  const row = element("tr");
  row.append(element("td", { colspan: "6", class: kind }, text));
  return row;
}

function setUpTrendControls() {
  const select = document.getElementById("trend-span");
  for (const [months, label] of Object.entries(TREND_SPANS)) {
    select.append(element("option", { value: months }, label));
  }
  select.value = String(view.months);
  select.addEventListener("change", () => {
    view.months = Number(select.value);
    writeView();
    drawTrend().catch((error) => showError("trend-note", error));
  });
}

function setUpOverviewControls() {
  for (const button of document.querySelectorAll("#overview th button[data-sort]")) {
    button.addEventListener("click", () => {
      const key = button.dataset.sort;
      view.dir = view.sort === key && view.dir === "asc" ? "desc" : "asc";
      view.sort = key;
      view.page = 1;
      writeView();
      drawOverview();
    });
  }
  document.getElementById("page-previous").addEventListener("click", () => {
    view.page -= 1;
    writeView();
    drawOverview();
  });
  document.getElementById("page-next").addEventListener("click", () => {
    view.page += 1;
    writeView();
    drawOverview();
  });
}

// --- progress over time -----------------------------------------------------------------

async function drawTrend() {
  const chart = document.getElementById("trend-chart");
  const now = view.as_of ? new Date(`${view.as_of}T00:00:00Z`) : new Date();
  // As of a past day, the last point is the last month ended by then (a point is its
  // month's end); today's month is drawn as it stands.
  const monthEnded = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate() === now.getUTCDate();
  const back = view.as_of && !monthEnded ? 1 : 0;
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));
  const first = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth() - (view.months - 1), 1));
  const lastDay = view.as_of || now.toISOString().slice(0, 10);
  const [series, meetings] = await Promise.all([
    getJSON(`/stats/progress${query({ ...scope(), from: monthText(first), to: monthText(last) })}`),
    allItems("/meetings", {
      agreement: view.agreement,
      start_from: `${monthText(first)}-01`,
      start_to: lastDay,
    }),
  ]);
  const points = series.points;
  // Drawn at the size it is shown, so that its text keeps its size on a phone.
  const width = Math.max(280, chart.clientWidth || 960);
  const height = width < 600 ? 220 : 320, left = 44, right = 16, top = 12, bottom = 36;
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const every = Math.ceil(points.length / Math.max(2, Math.floor(width / 90)));
  const x = (index) => left + (index * (width - left - right)) / Math.max(1, points.length - 1);
  const y = (value) => top + ((100 - value) * (height - top - bottom)) / 100;
  chart.replaceChildren();
  for (const value of [0, 50, 100]) {
    chart.append(svg("line", { class: "trend-axis", x1: left, x2: width - right, y1: y(value), y2: y(value) }));
    chart.append(svg("text", { class: "chart-label", x: 4, y: y(value) + 4 }, `${value} %`));
  }
  points.forEach((point, index) => {
    if (index % every === 0) {
      chart.append(svg("text", { class: "chart-label", x: x(index), y: height - 10, "text-anchor": "middle" }, point.month));
    }
  });
  const monthIndex = new Map(points.map((point, index) => [point.month, index]));
  const list = document.getElementById("trend-meetings");
  list.replaceChildren();
  let marked = 0;
  for (const meeting of meetings) {
    const index = monthIndex.get(String(meeting.start_date).slice(0, 7));
    if (index === undefined) continue;
    const mark = svg("line", { class: "trend-meeting", "data-meeting": meeting.id, x1: x(index), x2: x(index), y1: top, y2: height - bottom });
    mark.append(svg("title", {}, `${meeting.start_date}: ${meeting.title}`));
    chart.append(mark);
    list.append(element("li", { "data-meeting": String(meeting.id) }, `${meeting.start_date}: ${meeting.title}`));
    marked += 1;
  }
  // The line, broken where progress is not known.
  let segment = [];
  const flush = () => {
    if (segment.length) {
      chart.append(svg("polyline", { class: "trend-line", points: segment.join(" ") }));
    }
    segment = [];
  };
  points.forEach((point, index) => {
    if (point.progress === null) {
      flush();
      return;
    }
    segment.push(`${x(index)},${y(point.progress)}`);
    const dot = svg("circle", { class: "trend-point", "data-month": point.month, cx: x(index), cy: y(point.progress), r: 3 });
    dot.append(svg("title", {}, `${point.month}: ${percent(point.progress)}, ${point.total} commitments, ${point.overdue} overdue`));
    chart.append(dot);
  });
  flush();
  const latest = points[points.length - 1];
  document.getElementById("trend-note").textContent =
    `${scopeLabel()}: ${percent(latest.progress)} at the end of ${latest.month}, by month since ${points[0].month}`
    + (marked ? `; dashed lines mark the ${marked} meeting${marked === 1 ? "" : "s"} `
      + (view.agreement ? "that reviewed it." : "held then.") : ".");
}

// --- commitments by status --------------------------------------------------------------

async function drawStatusChart() {
  const chart = document.getElementById("status-chart");
  const summary = await getJSON(`/stats/summary${query({ ...scope(), as_of: view.as_of })}`);
  document.getElementById("status-summary").textContent =
    `${scopeLabel()}: ${summary.total} commitments · weighted progress ${percent(summary.progress)} · ${summary.overdue} overdue`;
  const width = 700, height = 300, top = 20, bottom = 100, left = 20;
  const slot = (width - left) / summary.by_status.length;
  const highest = Math.max(1, ...summary.by_status.map((entry) => entry.count));
  chart.replaceChildren();
  summary.by_status.forEach((entry, index) => {
    const barHeight = Math.max(((height - top - bottom) * entry.count) / highest, 1);
    const x = left + index * slot + slot * 0.15;
    const rect = svg("rect", { class: "status-bar", "data-status": entry.status, "data-count": entry.count,
      x, y: height - bottom - barHeight, width: slot * 0.7, height: barHeight });
    rect.append(svg("title", {}, `${words(entry.status)}: ${entry.count}`));
    chart.append(rect);
    chart.append(svg("text", { class: "chart-label", x: x + slot * 0.35, y: height - bottom - barHeight - 4, "text-anchor": "middle" }, String(entry.count)));
    chart.append(svg("text", { class: "chart-label", transform: `translate(${x + slot * 0.35}, ${height - bottom + 12}) rotate(40)` }, words(entry.status)));
  });
}

// --- an assessment timeline ---------------------------------------------------------------

const sourceCache = new Map();

async function sourceOf(id) {
  if (!sourceCache.has(id)) {
    sourceCache.set(id, await getJSON(`/sources/${id}`));
  }
  return sourceCache.get(id);
}

async function drawTimeline(commitmentId) {
  const timeline = document.getElementById("timeline");
  const commitment = await getJSON(`/commitments/${commitmentId}${query({ as_of: view.as_of })}`);
  const assessments = (await allItems(`/commitments/${commitmentId}/assessments`, {}))
    .filter((assessment) => knownBy(assessment.as_of, view.as_of))
    .sort((a, b) => (firstDay(a.as_of) + a.assessed_at).localeCompare(firstDay(b.as_of) + b.assessed_at));
  timeline.replaceChildren();
  const claims = drawClaims(commitment, assessments);
  if (!assessments.length) {
    timeline.append(element("li", { class: "note" }, view.as_of ? `Not assessed by ${view.as_of}.` : "Not assessed yet."));
    await claims;
    return;
  }
  for (const assessment of assessments) {
    const item = element("li", { class: "timeline-item", "data-assessment": String(assessment.id) });
    const head = element("div");
    head.append(element("span", { class: "timeline-when" }, assessment.as_of));
    head.append(element("span", { class: "timeline-status" }, words(assessment.status)));
    const assessor = organizationNames.get(assessment.assessor_organization_id);
    head.append(document.createTextNode(` · assessed by ${assessment.assessor_kind}`
      + (assessor ? ` (${assessor})` : "") + `, ${assessment.confidence} confidence`
      + (assessment.superseded_by_id ? " · corrected later" : "")));
    item.append(head);
    if (assessment.rationale) {
      item.append(element("p", {}, assessment.rationale));
    }
    const sources = assessment.sources;
    if (sources.length) {
      const list = element("ul", { class: "timeline-sources" });
      for (const source of sources) {
        const entry = element("li", { class: "timeline-source" });
        entry.append(element("a", { href: source.url, rel: "noreferrer noopener" }, source.title));
        entry.append(document.createTextNode(
          (source.publisher ? ` (${source.publisher}` : " (") + `, reliability ${words(source.reliability)})`));
        list.append(entry);
      }
      item.append(list);
    }
    timeline.append(item);
  }
  await claims;
}

// The agreement whose commitments are shown: the one in view, else the first the overview
// shows that has an assessed commitment (the first ten looked at).
async function shownTree() {
  const candidates = view.agreement ? [view.agreement] : sorted(agreements).map((agreement) => agreement.slug);
  let found = { slug: "", commitments: [] };
  for (const slug of candidates.slice(0, 10)) {
    found = { slug, commitments: await allItems(`/agreements/${slug}/commitments`, { as_of: view.as_of }) };
    if (view.agreement || found.commitments.some((commitment) => commitment.current_assessment_id !== null)) break;
  }
  return found;
}

async function drawCommitments() {
  const { slug, commitments } = await shownTree();
  // Which are overdue is the API's to say (the rule has one home, the service).
  const overdue = new Set(slug
    ? (await allItems(`/agreements/${slug}/commitments`, { overdue: "true", as_of: view.as_of })).map((item) => item.id)
    : []);
  const select = document.getElementById("commitment");
  select.replaceChildren();
  for (const commitment of commitments) {
    select.append(element("option", { value: String(commitment.id) },
      `${commitment.ref ? commitment.ref + " " : ""}${commitment.title} (${words(commitment.current_status)})`));
  }
  drawTree(slug, commitments, overdue);
  const chosen = commitments.find((commitment) => String(commitment.id) === view.commitment)
    || commitments.find((commitment) => commitment.current_assessment_id !== null) || commitments[0];
  if (chosen) {
    await openCommitment(chosen.id, { keepUrl: true });
  } else {
    document.getElementById("timeline").replaceChildren(element("li", { class: "note" }, "No commitment to show."));
    document.getElementById("claims").replaceChildren();
  }
}

function drawTree(slug, commitments, overdue) {
  const tree = document.getElementById("tree");
  const title = agreements.find((agreement) => agreement.slug === slug)?.title || slug;
  document.getElementById("tree-note").textContent = slug
    ? `${title}: ${commitments.length} commitment${commitments.length === 1 ? "" : "s"}, ${overdue.size} overdue`
      + (view.as_of ? ` on ${view.as_of}` : "") : "No agreement to show.";
  const ids = new Set(commitments.map((commitment) => commitment.id));
  const children = new Map();
  for (const commitment of commitments) {
    const parent = ids.has(commitment.parent_id) ? commitment.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(commitment);
  }
  const branch = (parent) => {
    const list = element("ul");
    for (const commitment of children.get(parent) || []) {
      const item = element("li", { class: "tree-item", "data-commitment": String(commitment.id) });
      if (overdue.has(commitment.id)) item.setAttribute("data-overdue", "true");
      const head = element("div", { class: "tree-head" });
      const open = element("button", { type: "button", class: "tree-open", "aria-controls": "timeline" },
        `${commitment.ref ? commitment.ref + " " : ""}${commitment.title}`);
      open.addEventListener("click", () => {
        openCommitment(commitment.id).catch((error) => showError("timeline", error));
      });
      head.append(open, element("span", { class: "badge" }, words(commitment.current_status)),
        progressBar(commitment.current_progress, `Progress of ${commitment.title}`),
        element("span", { class: "due" }, commitment.due_date ? `due ${commitment.due_date}` : "no due date"));
      if (overdue.has(commitment.id)) head.append(element("span", { class: "badge overdue" }, "overdue"));
      item.append(head);
      if (children.has(commitment.id)) item.append(branch(commitment.id));
      list.append(item);
    }
    return list;
  };
  tree.replaceChildren(...branch(null).children);
}

// Show a commitment's evidence, and mark it in the tree; the URL keeps it.
async function openCommitment(commitmentId, options) {
  view.commitment = String(commitmentId);
  if (!(options && options.keepUrl)) writeView();
  document.getElementById("commitment").value = view.commitment;
  for (const item of document.querySelectorAll("#tree .tree-item")) {
    if (item.dataset.commitment === view.commitment) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
  await drawTimeline(view.commitment);
}

// Whether a record's value is what a citation claims (a text): a number as a number, a list
// item by item.
function sameValue(held, claimed) {
  if (Array.isArray(held)) return held.map(String).join(";") === claimed.replaceAll(", ", ";");
  if (typeof held === "number") return held === Number(claimed);
  return String(held ?? "") === claimed;
}

// Where a citation's source claims another value than the record holds: both, side by side.
async function drawClaims(commitment, assessments) {
  const list = document.getElementById("claims");
  const records = [["commitment", commitment], ...assessments.map((assessment) => ["assessment", assessment])];
  const cited = await Promise.all(records.map(async ([entity, record]) =>
    (await allItems("/citations", { entity_type: entity, entity_id: record.id }))
      .map((citation) => ({ citation, entity, record }))));
  const disagreeing = cited.flat().filter(({ citation, record }) => citation.claimed_value !== null
    && citation.field && !sameValue(record[citation.field], citation.claimed_value));
  list.replaceChildren();
  if (!disagreeing.length) {
    list.append(element("li", { class: "note" }, "No source claims otherwise."));
    return;
  }
  for (const { citation, entity, record } of disagreeing) {
    const source = await sourceOf(citation.source_id);
    const item = element("li", { class: "claim", "data-citation": String(citation.id) });
    const held = element("div");
    held.append(element("span", { class: "claim-label" }, `The ${entity}'s ${words(citation.field)} holds`),
      element("strong", {}, String(record[citation.field] ?? "nothing")));
    const claimed = element("div");
    claimed.append(element("span", { class: "claim-label" },
      `${source.title} (reliability ${words(source.reliability)}) claims`),
      element("strong", {}, citation.claimed_value));
    if (citation.quote) claimed.append(element("q", {}, citation.quote));
    item.append(held, claimed);
    list.append(item);
  }
}

// --- putting it together ----------------------------------------------------------------

function showError(id, error) {
  const target = document.getElementById(id);
  target.replaceChildren(element("p", { class: "error" }, `Could not load: ${error.message}`));
}

// Redraws run one after the other, so an older one's answers never land over a newer one's;
// asks made while one runs wait as one more redraw, of the view as it is when it starts.
let redrawn = Promise.resolve();
let waiting = null; // the options of the redraw waiting its turn

function refresh(options) {
  const asked = { keepOverview: Boolean(options && options.keepOverview) };
  if (waiting) {
    waiting.keepOverview = waiting.keepOverview && asked.keepOverview;
    return redrawn;
  }
  waiting = asked;
  redrawn = redrawn.then(() => {
    const now = waiting;
    waiting = null;
    return redraw(now);
  });
  return redrawn;
}

async function redraw(options) {
  document.body.dataset.ready = "false";
  writeView();
  document.getElementById("as-of-date").textContent = view.as_of || "today";
  document.getElementById("scope-clear").hidden = !view.agreement;
  for (const row of document.querySelectorAll("#overview-rows tr[aria-current]")) {
    row.removeAttribute("aria-current");
  }
  document.querySelector(`#overview-rows tr[data-agreement="${CSS.escape(view.agreement)}"]`)
    ?.setAttribute("aria-current", "true");
  if (!options.keepOverview) {
    try {
      await loadOverview();
      drawOverview();
      // When the first useful thing is on screen (docs/dashboard.md measures it).
      if (!performance.getEntriesByName("overview-drawn").length) performance.mark("overview-drawn");
    } catch (error) {
      document.getElementById("overview-rows").replaceChildren(
        messageRow(`Could not load: ${error.message}`, "error"));
    }
  }
  document.getElementById("scope-name").textContent = scopeLabel();
  await Promise.all([
    drawTrend().catch((error) => showError("trend-note", error)),
    drawStatusChart().catch((error) => showError("status-summary", error)),
    drawCommitments().catch((error) => showError("timeline", error)),
  ]);
  document.body.dataset.ready = "true";
}

// --- following the change feed ------------------------------------------------------------

function pause(milliseconds) {
  return new Promise((resolve) => { setTimeout(resolve, milliseconds); });
}

// Ask the feed what changed since `head` (read before the page's first reads), every FOLLOW_EVERY_MS
// while the tab is visible; when something did, draw every panel again in place. A failed
// ask is tried again at the next turn.
async function follow(head) {
  const live = document.getElementById("live");
  let seq = head;
  live.textContent = "Following changes";
  for (;;) {
    await pause(FOLLOW_EVERY_MS);
    if (document.hidden) continue;
    try {
      const page = await getJSON(`/changes${query({ after: seq, page_size: 200 })}`);
      if (!page.items.length) continue;
      seq = page.items[page.items.length - 1].seq;
      await refresh();
      live.textContent = `Updated at ${new Date().toLocaleTimeString()} (${page.items.length} change${page.items.length === 1 ? "" : "s"})`;
    } catch (error) {
      live.textContent = `Not following: ${error.message}; trying again`;
    }
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  setUpOverviewControls();
  setUpTrendControls();
  document.getElementById("scope-clear").addEventListener("click", () => {
    view.agreement = "";
    view.commitment = "";
    refresh({ keepOverview: true });
  });
  document.getElementById("commitment").addEventListener("change", (event) => {
    openCommitment(event.target.value).catch((error) => showError("timeline", error));
  });
  try {
    await setUpFilters();
  } catch (error) {
    showError("filters", error);
  }
  // The head first: a change committed while the page reads is then shown at the first turn.
  const head = await getJSON("/changes/head").then((found) => found.seq, () => null);
  await refresh();
  if (head !== null) {
    follow(head);
  } else {
    document.getElementById("live").textContent = "Not following changes: the feed did not answer.";
  }
});
