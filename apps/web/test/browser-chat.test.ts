import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChatServer, createServer } from "@tcpchat/core";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatPage } from "./chat-page.js";
import { LinePeer } from "./line-peer.js";

const DIST = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "dist");
/** Debian's chromium unless TCPCHAT_CHROMIUM names another; the test never downloads a browser. */
const CHROMIUM = process.env.TCPCHAT_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

/** The page's server: HTTP (the built app) and WebSocket beside line clients, on one port. */
async function startChatServer(port: number): Promise<{ server: ChatServer; port: number }> {
  const server = createServer({ http: { staticDir: DIST }, webSocket: true, sniffTimeoutMs: 100 });
  const bound = await server.listen(port, "127.0.0.1");
  return { server, port: bound.port };
}

const inCi = Boolean(process.env.CI);
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !inCi) console.warn(`browser chat test SKIPPED: no chromium at ${CHROMIUM}`);

describe.skipIf(!haveChromium && !inCi)("the browser chat in chromium", () => {
  let browser: Browser;
  let server: ChatServer | undefined;
  let port = 0;
  const peers: LinePeer[] = [];

  beforeAll(async () => {
    if (!existsSync(join(DIST, "index.html")))
      throw new Error("apps/web is not built: run vite build");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    ({ server, port } = await startChatServer(0));
  });

  afterAll(async () => {
    for (const peer of peers) peer.close();
    await browser?.close();
    await server?.close({ graceMs: 0 });
  });

  it("two pages and an nc client hear each other; IME Enter does not send; it reconnects", async () => {
    const url = `http://127.0.0.1:${port}/`;
    const alice = await ChatPage.join(browser, url, "alice");
    const bob = await ChatPage.join(browser, url, "bob");
    const nc = await LinePeer.open(port);
    peers.push(nc);
    nc.send("/nick carol");
    await nc.waitFor(/carol/);
    await alice.page.waitForFunction(
      () => document.querySelectorAll("#nick-list .nick").length === 3,
    );
    expect((await alice.nicks()).sort()).toEqual(["alice", "bob", "carol"]);

    await alice.say("hello from alice <b>not bold</b>");
    await bob.waitForLine("hello from alice <b>not bold</b>");
    await nc.waitFor(/<alice> hello from alice <b>not bold<\/b>/);
    expect(await bob.page.locator("#log b").count()).toBe(0);
    nc.send("hi from nc");
    await alice.waitForLine("hi from nc");
    await bob.waitForLine("hi from nc");
    await bob.say("안녕 from bob");
    await alice.waitForLine("안녕 from bob");
    await nc.waitFor(/<bob> 안녕 from bob/);
    await alice.expectFitsWidth();
    // Kept in test-results/ for a human to look at the phone layout.
    await alice.page.screenshot({ path: join(DIST, "..", "test-results", "chat-390.png") });

    // Korean IME: the Enter that confirms a composition must not send.
    await alice.page.fill("#composer", "한글");
    await alice.page.evaluate(() => {
      const box = document.querySelector("#composer") as HTMLTextAreaElement;
      const enter = (init: KeyboardEventInit) =>
        box.dispatchEvent(
          new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true, ...init }),
        );
      // Each signal on its own must hold the Enter back: the event's flag, the IME keyCode,
      // and a plain Enter between compositionstart and compositionend.
      enter({ isComposing: true });
      enter({ keyCode: 229 } as KeyboardEventInit);
      box.dispatchEvent(new CompositionEvent("compositionstart", { data: "" }));
      enter({});
      box.dispatchEvent(new CompositionEvent("compositionend", { data: "한글" }));
    });
    expect(await alice.page.inputValue("#composer")).toBe("한글");
    await alice.page.press("#composer", "Enter");
    await bob.waitForLine("한글");
    await nc.waitFor(/<alice> 한글/);
    expect(await alice.page.inputValue("#composer")).toBe("");
    expect(nc.received.match(/<alice> 한글/g)).toHaveLength(1);
    expect((await bob.lineTexts()).filter((text) => text === "한글")).toHaveLength(1);

    // A DM from a click on a nick, counted as unread in the other page's tab.
    // At 390 px the nick list is a panel behind the people button.
    await alice.page.click("#toggle-nicks");
    await alice.page.click("#nick-list .nick >> text=bob");
    await alice.page.waitForSelector('[data-key="@bob"].active');
    await alice.say("psst");
    await bob.page.waitForSelector('[data-key="@alice"] .unread');
    expect(await bob.page.textContent('[data-key="@alice"] .unread')).toBe("1");

    // The server restarts on the same port: both pages come back and chat again.
    await server?.close({ graceMs: 0 });
    server = undefined;
    await alice.page.waitForSelector("#status.waiting");
    ({ server } = await startChatServer(port));
    await alice.waitOnline();
    await bob.waitOnline();
    const nc2 = await LinePeer.open(port);
    peers.push(nc2);
    await alice.page.click('[data-key="#lobby"] .tab-open');
    await alice.say("back again");
    await bob.page.click('[data-key="#lobby"] .tab-open');
    await bob.waitForLine("back again");
    await alice.waitForLine("back again");
    await nc2.waitFor(/<alice> back again/);
    expect(await bob.lineTexts()).toContain("hi from nc");
  });
});
