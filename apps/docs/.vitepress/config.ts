import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type DefaultTheme, defineConfig } from "vitepress";

const DOCS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Pages written alongside this site; a sidebar entry appears only once its page exists. */
function ifPage(link: string, text: string): DefaultTheme.SidebarItem[] {
  return existsSync(join(DOCS_ROOT, `${link}.md`)) ? [{ text, link }] : [];
}

/** Typedoc's output folders, in the order a reader looks for things. */
const API_GROUPS = [
  ["functions", "Functions"],
  ["classes", "Classes"],
  ["interfaces", "Interfaces"],
  ["type-aliases", "Types"],
  ["variables", "Constants"],
] as const;

/** Sidebar of the generated API reference, read from what typedoc wrote into api/. */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  const groups: DefaultTheme.SidebarItem[] = [{ text: "@tcpchat/core", link: "/api/" }];
  for (const [folder, text] of API_GROUPS) {
    const dir = join(DOCS_ROOT, "api", folder);
    if (!existsSync(dir)) continue;
    const items = readdirSync(dir)
      .filter((file) => file.endsWith(".md"))
      .sort((a, b) => a.localeCompare(b))
      .map((file) => {
        const name = file.slice(0, -".md".length);
        return { text: name, link: `/api/${folder}/${name}` };
      });
    if (items.length > 0) groups.push({ text, collapsed: true, items });
  }
  return groups;
}

const englishSidebar: DefaultTheme.Sidebar = {
  "/api/": apiSidebar(),
  "/": [
    {
      text: "Guide",
      items: [
        { text: "Getting started", link: "/guide/getting-started" },
        ...ifPage("/guide/cli", "Command line"),
        ...ifPage("/guide/tui", "Terminal UI"),
        { text: "Timed out vs refused", link: "/guide/troubleshooting" },
        ...ifPage("/guide/accept-policy", "Accept policies"),
      ],
    },
    {
      text: "From the socket tutorial",
      items: [
        { text: "Threads vs one event loop", link: "/guide/threads-vs-event-loop" },
        { text: "Plain TCP vs WebSocket", link: "/guide/tcp-vs-websocket" },
      ],
    },
    {
      text: "Performance",
      items: [
        { text: "Results", link: "/performance" },
        ...ifPage("/guide/performance-method", "How it is measured"),
      ],
    },
    {
      text: "Reference",
      items: [
        { text: "Protocol", link: "/reference/protocol" },
        { text: "Error codes", link: "/reference/errors" },
        { text: "API (@tcpchat/core)", link: "/api/" },
      ],
    },
  ],
};

const koreanSidebar: DefaultTheme.Sidebar = {
  "/ko/": [
    {
      text: "안내",
      items: [
        { text: "시작하기", link: "/ko/guide/getting-started" },
        { text: "English docs", link: "/guide/getting-started" },
      ],
    },
  ],
};

export default defineConfig({
  title: "tcpchat",
  description: "Chat over plain TCP, from the first socket to thousands of clients",
  cleanUrls: false,
  lastUpdated: false,
  head: [["link", { rel: "icon", type: "image/svg+xml", href: "/logo.svg" }]],
  // Files that are inputs of pages, not pages: the bench data, generated partials, tests.
  srcExclude: ["generated/**", "data/**", "test/**", "test-results/**", "scripts/**", "README.md"],
  markdown: { lineNumbers: false },
  locales: {
    root: {
      label: "English",
      lang: "en-US",
      themeConfig: {
        nav: [
          { text: "Guide", link: "/guide/getting-started" },
          { text: "Performance", link: "/performance" },
          { text: "Protocol", link: "/reference/protocol" },
          { text: "API", link: "/api/" },
        ],
        sidebar: englishSidebar,
      },
    },
    ko: {
      label: "한국어",
      lang: "ko-KR",
      link: "/ko/",
      title: "tcpchat",
      description: "평범한 TCP 위의 채팅",
      themeConfig: {
        nav: [{ text: "시작하기", link: "/ko/guide/getting-started" }],
        sidebar: koreanSidebar,
        outline: { label: "목차" },
        docFooter: { prev: "이전", next: "다음" },
      },
    },
  },
  themeConfig: {
    logo: "/logo.svg",
    // Without this the language menu links every page to /ko/<same path>, which exists only
    // for the pages that have a Korean version.
    i18nRouting: false,
    outline: { level: [2, 3] },
    search: { provider: "local" },
  },
});
