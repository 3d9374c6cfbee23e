import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Page } from "playwright-core";

/** What one visit to a page found. */
export interface PageVisit {
  /** Site path of the page, such as `/guide/getting-started.html` or `/api/`. */
  readonly path: string;
  /** Every same-origin link on the page, as absolute URLs (with their `#hash`, if any). */
  readonly links: string[];
  /** Every element id on the page: the targets `#hash` links may point at. */
  readonly ids: Set<string>;
  /** Images that did not load or decode, by `src`. */
  readonly brokenImages: string[];
}

/** The site path of a page file in the build (`guide/x.html` -> `/guide/x.html`, `index.html` -> `/`). */
export function pagePathOf(distRoot: string, file: string): string {
  const path = `/${relative(distRoot, file).split(sep).join("/")}`;
  return path.endsWith("/index.html") ? path.slice(0, -"index.html".length) : path;
}

/** Every HTML page of a build, as site paths, except the 404 page. */
export function listBuiltPages(distRoot: string): string[] {
  const pages: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".html") && full !== join(distRoot, "404.html")) {
        pages.push(pagePathOf(distRoot, full));
      }
    }
  };
  walk(distRoot);
  return pages.sort();
}

/** Normalizes a URL to the site path used as a page key: no hash, no query, `x/index.html` -> `x/`. */
export function pageKey(url: URL): string {
  return url.pathname.endsWith("/index.html")
    ? url.pathname.slice(0, -"index.html".length)
    : url.pathname;
}

/** Loads a page and reads its links, ids and images once every image has settled. */
export async function visitPage(page: Page, origin: string, path: string): Promise<PageVisit> {
  await page.goto(origin + path, { waitUntil: "load" });
  const found = await page.evaluate(async () => {
    const images = Array.from(document.images);
    // Lazy images below the fold would never load in a headless visit: load them all now.
    for (const image of images) image.loading = "eager";
    const brokenImages = (
      await Promise.all(
        images.map((image) =>
          image.decode().then(
            () => (image.naturalWidth > 0 ? null : image.src),
            () => image.src,
          ),
        ),
      )
    ).filter((src): src is string => src !== null);
    const links = Array.from(
      document.querySelectorAll("a[href]"),
      (a) => (a as HTMLAnchorElement).href,
    );
    const ids = Array.from(document.querySelectorAll("[id]"), (element) => element.id);
    return { links, ids, brokenImages };
  });
  return {
    path,
    links: found.links.filter((href) => new URL(href).origin === origin),
    ids: new Set(found.ids),
    brokenImages: found.brokenImages,
  };
}
