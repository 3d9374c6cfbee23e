import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ChatServer,
  createClient,
  createServer,
  dmConversation,
  openDataDirectory,
  type SqliteStore,
} from "@tcpchat/core";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatPage } from "./chat-page.js";
import { LinePeer } from "./line-peer.js";

const DIST = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "dist");
const CHROMIUM = process.env.TCPCHAT_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];
/** Messages stored before the page loads: "old message 001" .. "old message 120". */
const STORED = 120;

function seededStore(): SqliteStore {
  const store = openDataDirectory(":memory:");
  const start = Date.now() - 3_600_000;
  store.appendMessages(
    Array.from({ length: STORED }, (_, i) => ({
      id: i + 1,
      ts: start + (i + 1) * 1000,
      room: "lobby",
      roomKey: "lobby",
      from: "archivist",
      text: `old message ${String(i + 1).padStart(3, "0")}`,
      action: false,
    })),
  );
  // 30 DMs between the accounts dmalice and dmbob (registered by the DM test), after those.
  const conversation = dmConversation("dmalice", "dmbob");
  store.appendMessages(
    Array.from({ length: 30 }, (_, i) => ({
      id: STORED + 1 + i,
      ts: start + (STORED + 1 + i) * 1000,
      room: conversation,
      roomKey: conversation,
      from: i % 2 === 0 ? "dmalice" : "dmbob",
      to: i % 2 === 0 ? "dmbob" : "dmalice",
      text: `stored dm ${String(i + 1).padStart(2, "0")}`,
      action: false,
    })),
  );
  return store;
}

/** The numbers of the "old message N" lines in the log, top to bottom. */
async function oldNumbers(page: ChatPage): Promise<number[]> {
  const texts = await page.lineTexts();
  return texts.flatMap((t) => {
    const match = /^old message (\d{3})$/.exec(t);
    return match ? [Number(match[1])] : [];
  });
}
const upTo = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const inCi = Boolean(process.env.CI);
const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium && !inCi)("history in the browser chat (chromium)", () => {
  let browser: Browser;
  let server: ChatServer | undefined;
  let store: SqliteStore | undefined;
  let port = 0;
  const peers: LinePeer[] = [];

  beforeAll(async () => {
    if (!existsSync(join(DIST, "index.html")))
      throw new Error("apps/web is not built: run vite build");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    store = seededStore();
    server = createServer({
      http: { staticDir: DIST },
      webSocket: true,
      sniffTimeoutMs: 100,
      store,
    });
    port = (await server.listen(0, "127.0.0.1")).port;
  });

  afterAll(async () => {
    for (const peer of peers) peer.close();
    await browser?.close();
    await server?.close({ graceMs: 0 });
    store?.close();
  });

  it("shows stored messages as history on join and loads older pages up to the start", async () => {
    const reader = await ChatPage.join(browser, `http://127.0.0.1:${port}/`, "reader", 800);
    const { page } = reader;
    await reader.waitForLine("old message 120");
    // Said before the page loaded: marked as history, the newest 20 only.
    expect(await page.locator("#log .line.history").count()).toBe(20);
    expect(await oldNumbers(reader)).toEqual(upTo(101, 120));
    expect(await page.title()).toBe("tcpchat");
    // Live talk is not marked.
    const nc = await LinePeer.open(port);
    peers.push(nc);
    nc.send("said just now");
    await reader.waitForLine("said just now");
    expect(
      await page.locator("#log .line:not(.history) .text", { hasText: "said just now" }).count(),
    ).toBe(1);

    // The button asks for the page before the oldest message shown.
    await page.click("#log .load-older");
    await reader.waitForLine("old message 051");
    expect(await oldNumbers(reader)).toEqual(upTo(51, 120));
    // Scrolling to the top asks for the next one; what was in view stays in view.
    const before = await page.evaluate(() => {
      const log = document.getElementById("log")!;
      log.scrollTop = 0;
      return log.scrollHeight;
    });
    await reader.waitForLine("old message 001");
    const after = await page.evaluate(() => {
      const log = document.getElementById("log")!;
      return { height: log.scrollHeight, top: log.scrollTop };
    });
    expect(after.height).toBeGreaterThan(before);
    expect(after.top).toBeGreaterThan(0);
    expect(await oldNumbers(reader)).toEqual(upTo(1, 120));
    // One more page comes back empty: the page says where history starts and stops asking.
    await page.evaluate(() => {
      document.getElementById("log")!.scrollTop = 0;
    });
    await page.locator("#log .history-top.start").waitFor();
    expect(await oldNumbers(reader)).toEqual(upTo(1, 120));

    // /search and /history from the composer.
    await reader.say("/search message 042");
    await reader.waitForLine('Search "message 042": 1 result.');
    const texts = await reader.lineTexts();
    expect(texts.at(-2)).toBe("old message 042");
    await reader.say("/history 5");
    await reader.waitForLine("5 messages of history, each in its place.");
    expect(await oldNumbers(reader)).toEqual([...upTo(1, 120), 42]);
    await page.close();
  });

  it("pages the stored DMs of two registered users in their thread", async () => {
    const bob = createClient({ port, nick: "dmbob" });
    await bob.connect();
    try {
      await bob.register("correct-horse-9");
      const alice = await ChatPage.join(browser, `http://127.0.0.1:${port}/`, "dmalice", 800);
      await alice.say("/register correct-horse-9");
      await alice.waitForLine("Registered dmalice.");
      await alice.say("/msg dmbob still there?");
      await alice.waitForLine("still there?");
      await alice.page.click("#log .load-older");
      await alice.waitForLine("stored dm 01");
      await alice.page.locator("#log .history-top.start").waitFor();
      const texts = await alice.lineTexts();
      expect(texts).toEqual([
        ...Array.from({ length: 30 }, (_, i) => `stored dm ${String(i + 1).padStart(2, "0")}`),
        "still there?",
      ]);
      expect(await alice.page.locator("#log .line.history").count()).toBe(30);
      await alice.page.close();
    } finally {
      await bob.quit();
    }
  });

  it("registers and logs in from the composer", async () => {
    const url = `http://127.0.0.1:${port}/`;
    const owner = await ChatPage.join(browser, url, "keeper", 800);
    await owner.say("/register correct-horse-9");
    await owner.waitForLine("Registered keeper.");
    await owner.page.close();
    const again = await ChatPage.join(browser, url, "visitor", 800);
    await again.say("/login keeper correct-horse-9");
    await again.waitForLine("Logged in as keeper.");
    await again.page.close();
  });
});
