// Makes the screen capture for the docs page (apps/docs/guide/tui.md): runs a local server with
// a few clients, the built TUI inside tmux (100x30, xterm-256color), and saves the screen as
// text and as a PNG rendered by headless Chromium. Loopback only; everything is shut down at
// the end. Usage: node scripts/capture-docs.mjs OUT_TEXT OUT_PNG (after building tui and core).
import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createClient, createServer } from "@tcpchat/core";
import { chromium } from "playwright-core";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const [outText, outPng] = process.argv.slice(2);
if (!outText || !outPng) throw new Error("usage: capture-docs.mjs OUT_TEXT OUT_PNG");
const COLUMNS = 100;
const ROWS = 30;
const socket = `tcpchat-tui-docs-${process.pid}`;
const tmux = (...args) => run("tmux", ["-u", "-L", socket, ...args]).then((r) => r.stdout);

async function until(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const screenHas = (text) => async () =>
  (await tmux("capture-pane", "-p", "-t", "main")).includes(text);

// ---- ANSI screen -> HTML -> PNG ---------------------------------------------------------------

const PALETTE = [
  "#000000",
  "#cd3131",
  "#0dbc79",
  "#e5e510",
  "#2472c8",
  "#bc3fbc",
  "#11a8cd",
  "#e5e5e5",
  "#666666",
  "#f14c4c",
  "#23d18b",
  "#f5f543",
  "#3b8eea",
  "#d670d6",
  "#29b8db",
  "#ffffff",
];
function colour256(n) {
  if (n < 16) return PALETTE[n];
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const c = (x) => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
}
function cellWidth(ch) {
  const cp = ch.codePointAt(0);
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    cp >= 0x1f000
  )
    return 2;
  return 1;
}
const escapeHtml = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function rowsToHtml(ansi, cursor) {
  const rows = ansi.replace(/\n$/, "").split("\n");
  let html = "";
  // tmux's capture does not reset attributes at line starts: they carry over.
  let fg = "#e5e5e5",
    bg = "transparent",
    bold = false;
  rows.forEach((row, y) => {
    let x = 0;
    let line = "";
    const parts = row.split(/(\x1b\[[0-9;]*m)/);
    for (const part of parts) {
      const sgr = /^\x1b\[([0-9;]*)m$/.exec(part);
      if (sgr) {
        const codes = sgr[1] === "" ? [0] : sgr[1].split(";").map(Number);
        for (let i = 0; i < codes.length; i++) {
          const c = codes[i];
          if (c === 0) {
            fg = "#e5e5e5";
            bg = "transparent";
            bold = false;
          } else if (c === 1) bold = true;
          else if (c === 22) bold = false;
          else if (c >= 30 && c <= 37) fg = PALETTE[c - 30];
          else if (c >= 90 && c <= 97) fg = PALETTE[c - 90 + 8];
          else if (c >= 40 && c <= 47) bg = PALETTE[c - 40];
          else if (c >= 100 && c <= 107) bg = PALETTE[c - 100 + 8];
          else if (c === 39) fg = "#e5e5e5";
          else if (c === 49) bg = "transparent";
          else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
            if (c === 38) fg = colour256(codes[i + 2]);
            else bg = colour256(codes[i + 2]);
            i += 2;
          }
        }
        continue;
      }
      for (const ch of part) {
        const w = cellWidth(ch);
        const isCursor = y === cursor.y && x === cursor.x;
        const style = `width:${w}ch;color:${isCursor ? "#1e1e1e" : fg};background:${isCursor ? "#e5e5e5" : bg};${bold ? "font-weight:bold;" : ""}`;
        line += `<span style="${style}">${escapeHtml(ch)}</span>`;
        x += w;
      }
    }
    if (y === cursor.y && x <= cursor.x) {
      line += `<span style="width:${cursor.x - x}ch"></span><span style="width:1ch;background:#e5e5e5">&nbsp;</span>`;
    }
    html += `<div class="row">${line}</div>`;
  });
  return html;
}

async function renderPng(ansi, cursor, out) {
  const page = `<!doctype html><meta charset="utf-8"><style>
    body { margin: 0; background: #1e1e1e; }
    .screen { padding: 12px; display: inline-block; font: 15px/1.3 "DejaVu Sans Mono", "NanumGothicCoding", "Noto Color Emoji", monospace; }
    .row { height: 1.3em; white-space: pre; display: flex; }
    .row span { display: inline-block; overflow: visible; flex: none; }
  </style><div class="screen">${rowsToHtml(ansi, cursor)}</div>`;
  const browser = await chromium.launch({
    // Debian's chromium package; TCPCHAT_CHROMIUM points elsewhere (as the docs tests do).
    executablePath: process.env.TCPCHAT_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  try {
    const tab = await browser.newPage({ deviceScaleFactor: 1 });
    await tab.setContent(page);
    await tab.locator(".screen").screenshot({ path: out });
  } finally {
    await browser.close();
  }
}

async function main() {
  const server = createServer();
  const { port } = await server.listen(0, "127.0.0.1");
  const clients = [];
  async function client(nick, rooms = []) {
    const c = createClient({ port, nick });
    clients.push(c);
    await c.connect();
    for (const room of rooms) await c.join(room);
    return c;
  }
  try {
    const alice = await client("alice", ["dev"]);
    const minsu = await client("민수");
    const bob = await client("bob", ["dev"]);
    await tmux(
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "main",
      "-x",
      `${COLUMNS}`,
      "-y",
      `${ROWS}`,
      `env TERM=xterm-256color LANG=C.UTF-8 ${process.execPath} ${resolve(here, "../dist/main.js")} 127.0.0.1:${port} --nick 지은`,
    );
    await until(screenHas("[online]"), "the TUI to connect");
    const type = async (text) => tmux("send-keys", "-t", "main", "-l", text);
    const press = async (...keys) => tmux("send-keys", "-t", "main", ...keys);

    await client("haruka");
    await until(screenHas("haruka"), "a join");
    await minsu.send("안녕하세요 👋 오늘 릴리스 노트 초안 올렸어요", { room: "lobby" });
    await alice.send("thanks 민수, reading it now", { room: "lobby" });
    await bob.send("the tcpchat doctor command found my firewall rule in 2 seconds 🎉", {
      room: "lobby",
    });
    await alice.send("good morning! standup in 10 minutes?", { room: "lobby" });
    await minsu.send("네, 곧 갈게요. 회의실은 3층이에요", { room: "lobby" });
    await until(screenHas("3층"), "messages");
    await type("좋아요, 저도 갈게요 (I'll bring the notes)");
    await press("Enter");
    await until(screenHas("<지은> 좋아요"), "own message");
    await bob.send("brb, coffee", { room: "lobby", action: true });
    await tmux("send-keys", "-t", "main", "-l", "/join dev");
    await press("Enter");
    await until(screenHas("[#dev]"), "the dev tab");
    await press("M-2");
    await until(screenHas("[#lobby]"), "back to lobby");
    await alice.send("deploy went out, dashboards look fine", { room: "dev" });
    await bob.send("nice — 배포 확인했습니다", { room: "dev" });
    await bob.dm("지은", "can you review my PR after standup?");
    await minsu.send("지은님, 자료 공유해 주실 수 있나요?", { room: "lobby" });
    await until(screenHas("@bob(1)"), "the DM tab");
    await type("물론이죠, 링크는 여기: https://example.com/notes");
    await press("C-Left", "C-Left");
    await until(
      async () => (await tmux("capture-pane", "-p", "-t", "main")).includes("#dev(2)"),
      "unread count",
    );

    const text = await tmux("capture-pane", "-p", "-t", "main");
    const ansi = await tmux("capture-pane", "-p", "-e", "-N", "-t", "main");
    const [cursorX, cursorY] = (
      await tmux("display-message", "-p", "-t", "main", "#{cursor_x} #{cursor_y}")
    )
      .trim()
      .split(" ")
      .map(Number);
    await writeFile(outText, text.replace(/[ \t]+$/gm, ""));
    await renderPng(ansi, { x: cursorX, y: cursorY }, outPng);
    process.stdout.write(`wrote ${outText} and ${outPng}\n`);
  } finally {
    const socketPath = (
      await tmux("display-message", "-p", "#{socket_path}").catch(() => "")
    ).trim();
    await tmux("kill-server").catch(() => {});
    if (socketPath !== "") await rm(socketPath, { force: true });
    for (const c of clients) await c.quit().catch(() => {});
    await server.close({ graceMs: 0 });
  }
}

await main();
