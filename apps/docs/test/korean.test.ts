import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DefaultTheme } from "vitepress";
import { describe, expect, it } from "vitest";
import config from "../.vitepress/config.js";

const DOCS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(DOCS_ROOT, ".vitepress/dist");

/** The ids of a built page's section headings (h2 to h4), in order. */
function headingIds(page: string): string[] {
  const html = readFileSync(join(DIST, `${page.slice(1)}.html`), "utf8");
  return [...html.matchAll(/<h[2-4][^>]* id="([^"]+)"/g)].map((match) => match[1]!);
}

/** Markdown pages of one folder of the site, as site paths without extension (`/guide/cli`). */
function pagesIn(folder: string): string[] {
  const dir = join(DOCS_ROOT, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(".md"))
    .map((file) => `/${folder}/${file.slice(0, -".md".length)}`.replace("//", "/"))
    .sort();
}

/** Every link of a sidebar, depth first. */
function sidebarLinks(items: DefaultTheme.SidebarItem[]): string[] {
  return items.flatMap((item) => [
    ...(item.link ? [item.link] : []),
    ...sidebarLinks(item.items ?? []),
  ]);
}

/** The English pages a reader finds in the guide: every guide, the results, the reference. */
const englishPages = [...pagesIn("guide"), "/performance", ...pagesIn("reference")];

const localeSidebar = (locale: "root" | "ko", key: string): DefaultTheme.SidebarItem[] => {
  const sidebar = config.locales?.[locale]?.themeConfig?.sidebar as DefaultTheme.SidebarMulti;
  return (sidebar[key] ?? []) as DefaultTheme.SidebarItem[];
};

describe("the Korean docs", () => {
  it("have a page for every English guide, the performance page and the reference", () => {
    expect(englishPages).toContain("/guide/getting-started");
    expect(englishPages).toContain("/reference/protocol");
    const missing = englishPages.filter(
      (page) => !existsSync(join(DOCS_ROOT, "ko", `${page.slice(1)}.md`)),
    );
    expect(missing, "English pages without a ko/ counterpart").toEqual([]);
  });

  it("have no page that has no English original", () => {
    const korean = [...pagesIn("ko/guide"), ...pagesIn("ko/reference")].map((page) =>
      page.slice("/ko".length),
    );
    expect(korean.filter((page) => !englishPages.includes(page))).toEqual([]);
  });

  it("list in the Korean sidebar every page the English sidebar lists", () => {
    const english = sidebarLinks(localeSidebar("root", "/")).filter(
      (link) => !link.startsWith("/api/"),
    );
    const korean = sidebarLinks(localeSidebar("ko", "/ko/"));
    expect(english.length).toBeGreaterThan(5);
    expect(english.map((link) => `/ko${link}`).filter((link) => !korean.includes(link))).toEqual(
      [],
    );
  });

  // Korean headings carry the English anchor (`## 포트 열기 {#open-the-port}`): a section added
  // to an English page and not to its Korean counterpart shows up here by name.
  it.skipIf(!existsSync(join(DIST, "index.html")))(
    "have every section of their English page, under the same anchor",
    () => {
      const missing = englishPages.flatMap((page) => {
        const korean = new Set(headingIds(`/ko${page}`));
        return headingIds(page)
          .filter((id) => !korean.has(id))
          .map((id) => `/ko${page}#${id}`);
      });
      expect(missing, "sections of the English pages missing in Korean").toEqual([]);
    },
  );
});
