import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type DefaultTheme, defineConfig } from "vitepress";
import { tableLabels } from "./table-labels.js";

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
        ...ifPage("/guide/tls", "TLS"),
        ...ifPage("/guide/cluster", "Running a cluster"),
        ...ifPage("/guide/history", "History and accounts"),
        ...ifPage("/guide/operators", "Operators, bans and topics"),
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

/**
 * The Korean guide mirrors the English sidebar page for page (test/korean.test.ts keeps the two
 * in step). The API reference is generated from the source's English JSDoc and has no Korean
 * version: its entry leads to the English one.
 */
const koreanSidebar: DefaultTheme.Sidebar = {
  "/ko/": [
    {
      text: "안내",
      items: [
        { text: "시작하기", link: "/ko/guide/getting-started" },
        ...ifPage("/ko/guide/cli", "명령줄"),
        ...ifPage("/ko/guide/tui", "터미널 UI"),
        ...ifPage("/ko/guide/troubleshooting", "시간 초과와 연결 거부"),
        ...ifPage("/ko/guide/accept-policy", "Accept policy"),
        ...ifPage("/ko/guide/tls", "TLS"),
        ...ifPage("/ko/guide/cluster", "클러스터 운영"),
        ...ifPage("/ko/guide/history", "기록과 계정"),
        ...ifPage("/ko/guide/operators", "운영자, ban, 토픽"),
      ],
    },
    {
      text: "소켓 예제에서 더 나아가기",
      items: [
        ...ifPage("/ko/guide/threads-vs-event-loop", "스레드와 하나의 event loop"),
        ...ifPage("/ko/guide/tcp-vs-websocket", "평범한 TCP와 WebSocket"),
      ],
    },
    {
      text: "성능",
      items: [
        ...ifPage("/ko/performance", "결과"),
        ...ifPage("/ko/guide/performance-method", "측정 방법"),
      ],
    },
    {
      text: "참고 자료",
      items: [
        ...ifPage("/ko/reference/protocol", "프로토콜"),
        ...ifPage("/ko/reference/errors", "오류 코드"),
        { text: "API (@tcpchat/core, 영어)", link: "/api/" },
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
  markdown: { lineNumbers: false, config: tableLabels },
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
        nav: [
          { text: "안내", link: "/ko/guide/getting-started" },
          { text: "성능", link: "/ko/performance" },
          { text: "프로토콜", link: "/ko/reference/protocol" },
          { text: "API", link: "/api/" },
        ],
        sidebar: koreanSidebar,
        outline: { label: "목차", level: [2, 3] },
        docFooter: { prev: "이전", next: "다음" },
        sidebarMenuLabel: "메뉴",
        returnToTopLabel: "맨 위로",
        langMenuLabel: "언어 바꾸기",
        darkModeSwitchLabel: "화면 모드",
        lightModeSwitchTitle: "밝은 화면으로",
        darkModeSwitchTitle: "어두운 화면으로",
      },
    },
  },
  themeConfig: {
    logo: "/logo.svg",
    // Without this the language menu links every page to /ko/<same path>, and the API
    // reference has no Korean version.
    i18nRouting: false,
    outline: { level: [2, 3] },
    search: {
      provider: "local",
      options: {
        locales: {
          ko: {
            translations: {
              button: { buttonText: "검색", buttonAriaLabel: "검색" },
              modal: {
                displayDetails: "자세히 보기",
                resetButtonTitle: "검색어 지우기",
                backButtonTitle: "검색 닫기",
                noResultsText: "결과가 없습니다",
                footer: { selectText: "선택", navigateText: "이동", closeText: "닫기" },
              },
            },
          },
        },
      },
    },
  },
});
