// Shared set-up of the browser tests: a loopback static server for build/web
// (the bundle), build/web-tests (the conformance suite) and tests/pages, and
// Debian's Chromium driven by playwright-core. Everything is stopped in close().
import { access } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./static_server.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const BUILD_WEB = process.env.CLOUDKIT_WEB_DIR ?? `${root}build/web`;
export const BUILD_WEB_TESTS = process.env.CLOUDKIT_WEB_TESTS_DIR ?? `${root}build/web-tests`;

// crossOriginIsolated: serve pages with COOP/COEP so that they read a 5 µs
// clock instead of a 100 µs one (the benchmark wants it; the bundle does not
// need it, and the tests run without it).
export async function startBrowser({ crossOriginIsolated = false } = {}) {
  await access(`${BUILD_WEB}/cloudkit.js`).catch(() => {
    throw new Error(`no bundle in ${BUILD_WEB}: run scripts/build-web.sh (scripts/build.sh does)`);
  });
  const server = await serve({
    "/web/": BUILD_WEB, "/web-tests/": BUILD_WEB_TESTS,
    "/examples/": `${root}examples/web`, "/": `${root}web-worker/tests/pages`,
  }, 0, crossOriginIsolated
    ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {});
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  return {
    url: server.url,
    browser,
    async newPage(path = "/index.html") {
      const context = await browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error("page error:", error.message));
      await page.goto(server.url + path);
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
