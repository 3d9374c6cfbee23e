import { defineConfig } from "vitepress";

export default defineConfig({
  title: "tcpchat",
  description: "Chat over plain TCP, from the first socket to thousands of clients",
  cleanUrls: false,
  themeConfig: {
    nav: [{ text: "Guide", link: "/guide/getting-started" }],
    sidebar: [{ text: "Guide", items: [{ text: "Getting started", link: "/guide/getting-started" }] }],
  },
});
