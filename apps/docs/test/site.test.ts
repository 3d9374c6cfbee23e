import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listBuiltPages, type PageVisit, pageKey, visitPage } from "./crawl.js";
import { FIT_VIEWPORTS, findOverflow } from "./fit.js";
import { type StaticServer, serveStatic } from "./static-server.js";

const DOCS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(DOCS_ROOT, ".vitepress/dist");
const RESULTS = join(DOCS_ROOT, "test-results");
/** Debian's chromium unless TCPCHAT_CHROMIUM names another; the test never downloads a browser. */
const CHROMIUM = process.env.TCPCHAT_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // Tests talk to loopback only: every other host name fails to resolve.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];
/** Pages whose screenshots are kept in test-results/ for a human to look at. */
const SCREENSHOTS: Record<string, string> = {
  "/": "home.png",
  "/performance.html": "performance.png",
};

/** Pages shot at every viewport of the fit test, kept in test-results/ as `<name>-<viewport>.png`. */
const FIT_SCREENSHOTS: Record<string, string> = {
  "/guide/troubleshooting.html": "troubleshooting",
  "/ko/guide/troubleshooting.html": "troubleshooting-ko",
};

/** The crawl opens every page (well over a hundred with the API reference): allow a slow CI box. */
const CRAWL_TIMEOUT_MS = 300_000;
/** The fit test loads every page twice, once per viewport: twice the crawl's budget. */
const FIT_TIMEOUT_MS = 2 * CRAWL_TIMEOUT_MS;
/** Tabs that crawl at once. */
const CRAWL_TABS = 2;

const inCi = Boolean(process.env.CI);
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !inCi) {
  console.warn(
    `\n!!!!!!!!\n!!! docs browser test SKIPPED: no chromium at ${CHROMIUM}.\n` +
      "!!! Install it with: sudo apt-get install -y chromium fonts-nanum\n!!!!!!!!\n",
  );
}

describe.skipIf(!haveChromium && !inCi)("the built docs site in chromium", () => {
  let server: StaticServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(
        `CI is set but ${CHROMIUM} is missing: apt-get install -y chromium fonts-nanum`,
      );
    }
    if (!existsSync(join(DIST, "index.html"))) {
      throw new Error("no build output in .vitepress/dist: run `pnpm --filter docs build` first");
    }
    mkdirSync(RESULTS, { recursive: true });
    server = await serveStatic(DIST);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh page that records every console error, page error, failed or external request. */
  async function watchedPage(problems: string[], where: () => string): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const origin = server!.origin;
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`${where()}: console error: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`${where()}: page error: ${error.message}`));
    page.on("requestfailed", (request) => {
      const reason = request.failure()?.errorText ?? "unknown";
      // Leaving a page cancels its idle prefetches; that is not a failure of the site.
      if (reason !== "net::ERR_ABORTED") {
        problems.push(`${where()}: request failed: ${request.url()} (${reason})`);
      }
    });
    page.on("response", (response) => {
      if (response.status() >= 400) {
        problems.push(`${where()}: HTTP ${response.status()} for ${response.url()}`);
      }
    });
    // The site must be self-contained: any request off the site is a failure (and the
    // browser's host rules keep it from leaving the machine).
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.protocol.startsWith("http") && url.origin !== origin) {
        problems.push(`${where()}: request outside the site: ${url.href}`);
      }
    });
    return page;
  }

  it(
    "opens every page with no broken link, console error, failed request or missing image",
    async () => {
      const origin = server!.origin;
      const problems: string[] = [];
      const built = listBuiltPages(DIST);
      expect(built).toContain("/");
      expect(built).toContain("/performance.html");

      // Crawl from the home page, then open any built page no link led to. A few tabs share the
      // queue: page loads wait on the browser more than on this process.
      const queue = ["/", ...built];
      const visits = new Map<string, PageVisit>();
      const claimed = new Set<string>();
      const crawl = async (): Promise<void> => {
        let current = "/";
        const page = await watchedPage(problems, () => current);
        for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
          if (claimed.has(path)) continue;
          claimed.add(path);
          current = path;
          const visit = await visitPage(page, origin, path);
          visits.set(path, visit);
          for (const src of visit.brokenImages)
            problems.push(`${path}: image did not load: ${src}`);
          const shot = SCREENSHOTS[path];
          if (shot) await page.screenshot({ path: join(RESULTS, shot), fullPage: true });
          for (const href of visit.links) {
            const key = pageKey(new URL(href));
            if ((key.endsWith("/") || key.endsWith(".html")) && !claimed.has(key)) queue.push(key);
          }
        }
        await page.close();
      };
      await Promise.all(Array.from({ length: CRAWL_TABS }, crawl));

      // Every link target exists; every #hash names an element on its page.
      const checkedTargets = new Map<string, number>();
      for (const visit of visits.values()) {
        for (const href of visit.links) {
          const url = new URL(href);
          const key = pageKey(url);
          if (!checkedTargets.has(key)) {
            const response = await fetch(origin + key, { method: "HEAD" });
            checkedTargets.set(key, response.status);
          }
          if (checkedTargets.get(key) !== 200) {
            problems.push(
              `${visit.path}: broken link to ${url.pathname} (HTTP ${checkedTargets.get(key)})`,
            );
            continue;
          }
          const id = decodeURIComponent(url.hash.slice(1));
          const target = visits.get(key);
          if (id && target && !target.ids.has(id)) {
            problems.push(`${visit.path}: link to missing anchor ${url.pathname}${url.hash}`);
          }
        }
      }

      expect([...new Set(problems)]).toEqual([]);
      expect(visits.size).toBeGreaterThanOrEqual(built.length);
      for (const shot of Object.values(SCREENSHOTS))
        expect(existsSync(join(RESULTS, shot))).toBe(true);
    },
    CRAWL_TIMEOUT_MS,
  );

  it(
    "fits every page at desktop and phone width: nothing wider than the page, nothing cut off",
    async () => {
      const pages = listBuiltPages(DIST);
      const problems: string[] = [];
      for (const viewport of FIT_VIEWPORTS) {
        const queue = [...pages];
        const check = async (): Promise<void> => {
          const page = await browser!.newPage({
            viewport: { width: viewport.width, height: viewport.height },
          });
          for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
            await page.goto(server!.origin + path, { waitUntil: "load" });
            for (const problem of await findOverflow(page)) {
              problems.push(`${viewport.width}px ${path}: ${problem}`);
            }
            const shot = FIT_SCREENSHOTS[path];
            if (shot) {
              await page.screenshot({ path: join(RESULTS, `${shot}-${viewport.name}.png`) });
            }
          }
          await page.close();
        };
        await Promise.all(Array.from({ length: CRAWL_TABS }, check));
      }
      expect(problems).toEqual([]);
      for (const shot of Object.values(FIT_SCREENSHOTS)) {
        for (const viewport of FIT_VIEWPORTS) {
          expect(existsSync(join(RESULTS, `${shot}-${viewport.name}.png`))).toBe(true);
        }
      }
    },
    FIT_TIMEOUT_MS,
  );

  it("renders Korean text with a font that has Hangul", async () => {
    const problems: string[] = [];
    const page = await watchedPage(problems, () => "/ko/guide/getting-started.html");
    await page.goto(`${server!.origin}/ko/guide/getting-started.html`, { waitUntil: "load" });
    expect(await page.getAttribute("html", "lang")).toBe("ko-KR");
    const heading = (await page.textContent(".vp-doc h1")) ?? "";
    expect(heading).toMatch(/[\uac00-\ud7a3]/);

    // Ask the renderer which installed fonts actually drew the heading's glyphs.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument", { depth: 0 });
    const { nodeId } = await cdp.send("DOM.querySelector", {
      nodeId: root.nodeId,
      selector: ".vp-doc h1",
    });
    const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
    const families = fonts.map((font) => font.familyName);
    expect(
      families.some((family) => /nanum|noto sans (cjk )?kr|malgun|apple sd gothic/i.test(family)),
    ).toBe(true);
    await page.screenshot({ path: join(RESULTS, "korean.png") });
    await page.close();
    expect(problems).toEqual([]);
  });
});
