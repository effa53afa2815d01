// Drives /dashboard in Debian's Chromium (playwright-core, no browser download) and prints
// what it found as one JSON object, for tests/contract/test_dashboard_browser.py to judge.
//
//   node dashboard.mjs BASE_URL axe        axe-core's WCAG 2.1 A and AA rules at two widths
//   node dashboard.mjs BASE_URL keyboard   sort and filter with the keyboard alone
//   node dashboard.mjs BASE_URL weight     bytes loaded and paint times, five cold loads
//   node dashboard.mjs BASE_URL live       a write through the API shows without a reload
//     (LIVE_PATH: the page to open; LIVE_AGREEMENT: the row to watch; LIVE_COMMITMENT and
//     LIVE_SOURCE: what to assess, citing what; EDITOR_KEY: the key that writes)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, scenario] = process.argv.slice(2);
const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

async function opened(browser, path, width) {
  // The page's CSP allows no inline script: axe-core is added past it, as a tester would.
  const context = await browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(base + path);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  return { page, errors };
}

async function axe(browser) {
  const found = {};
  for (const width of [390, 1280]) {
    const { page, errors } = await opened(browser, "/dashboard", width);
    await page.addScriptTag({ content: AXE });
    const results = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }),
      WCAG_21_AA,
    );
    found[width] = {
      errors,
      passes: results.passes.length,
      violations: results.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.map((node) => node.target.join(" ")),
      })),
    };
    await page.close();
  }
  return found;
}

async function keyboard(browser) {
  const { page, errors } = await opened(browser, "/dashboard", 1280);
  const sortButton = page.locator('#overview th button[data-sort="title"]');
  await sortButton.focus();
  await page.keyboard.press("Enter");
  await page.waitForFunction(() =>
    document.querySelector('#overview th:has(button[data-sort="title"])').getAttribute("aria-sort") === "descending");
  const titles = await page.locator("#overview-rows .agreement-title").allTextContents();
  await page.locator("#filter-lifecycle").focus();
  await page.keyboard.press("ArrowDown"); // the first status after "Any status"
  await page.waitForFunction(() => new URL(window.location.href).searchParams.has("lifecycle_status"));
  await page.waitForFunction(() => document.body.dataset.ready === "true");
  const url = page.url();
  return { errors, titles, url, focused: await page.evaluate(() => document.activeElement.id) };
}

async function weight(browser) {
  const loads = [];
  for (let run = 0; run < 5; run += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // Until no request is left: the time of the last answer's end is when the page holds
    // all it shows (the same measure for any version of the page).
    await page.goto(base + "/dashboard", { waitUntil: "networkidle" });
    loads.push(await page.evaluate(() => {
      const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
      const own = (entry) => new URL(entry.name).pathname.startsWith("/dashboard");
      const bytes = (kept) => kept.reduce((sum, entry) => sum + entry.decodedBodySize, 0);
      return {
        firstContentfulPaint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
        overviewDrawn: performance.getEntriesByName("overview-drawn")[0]?.startTime ?? null,
        lastAnswer: Math.max(...entries.map((entry) => entry.responseEnd)),
        requests: entries.length,
        assetBytes: bytes(entries.filter(own)),
        apiBytes: bytes(entries.filter((entry) => !own(entry))),
      };
    }));
    await context.close();
  }
  return { loads };
}

async function live(browser) {
  const env = process.env;
  const { page, errors } = await opened(browser, env.LIVE_PATH, 1280);
  let open = 0;
  let mostOpen = 0;
  const feed = (request) => request.url().includes("/api/v1/changes");
  page.on("request", (request) => {
    if (feed(request)) mostOpen = Math.max(mostOpen, ++open);
  });
  const done = (request) => {
    if (feed(request)) open -= 1;
  };
  page.on("requestfinished", done);
  page.on("requestfailed", done);
  await page.evaluate(() => { window.notReloaded = true; });
  await page.waitForFunction(() => document.getElementById("live").textContent.startsWith("Following"),
    null, { timeout: 30000 });
  const row = `#overview-rows tr[data-agreement="${env.LIVE_AGREEMENT}"] .counts`;
  const before = await page.locator(row).textContent();
  const started = Date.now();
  const written = await page.context().request.post(`${base}/api/v1/commitments/${env.LIVE_COMMITMENT}/assessments`, {
    headers: { Authorization: `Bearer ${env.EDITOR_KEY}` },
    data: { status: "initiated", as_of: "2025-01", assessor_kind: "official", source_ids: [Number(env.LIVE_SOURCE)] },
  });
  if (written.status() !== 201) throw new Error(`the write failed: ${written.status()} ${await written.text()}`);
  await page.waitForFunction((selector) => document.querySelector(selector)?.textContent.includes("initiated 1"),
    row, { timeout: 30000 });
  const seenAfterMs = Date.now() - started;
  await page.waitForFunction(() => document.getElementById("live").textContent.startsWith("Updated"),
    null, { timeout: 30000 });
  return {
    errors,
    before,
    after: await page.locator(row).textContent(),
    seenAfterMs,
    mostOpen,
    reloaded: !(await page.evaluate(() => window.notReloaded === true)),
    live: await page.locator("#live").textContent(),
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const run = { axe, keyboard, weight, live }[scenario];
  if (!run) throw new Error(`unknown scenario ${scenario}`);
  process.stdout.write(JSON.stringify(await run(browser)));
} finally {
  await browser.close();
}
