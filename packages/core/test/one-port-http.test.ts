import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAcceptPolicy } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";

const site = mkdtempSync(join(tmpdir(), "tcpchat-site-"));
mkdirSync(join(site, "assets"));
writeFileSync(join(site, "index.html"), "<!doctype html><title>chat app</title>");
writeFileSync(join(site, "assets", "app.js"), "console.log('chat');\n");
const secret = mkdtempSync(join(tmpdir(), "tcpchat-secret-"));
writeFileSync(join(secret, "key.txt"), "do not serve\n");
afterAll(() => {
  rmSync(site, { recursive: true, force: true });
  rmSync(secret, { recursive: true, force: true });
});

/** Sends raw bytes and returns everything the server sent until it closed (or `until` matched). */
function rawExchange(
  port: number,
  bytes: string | Buffer,
  options: { localAddress?: string; until?: RegExp } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (options.until?.test(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
    socket.write(bytes);
  });
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every sample's family must have been
 * declared by a TYPE line before it, counters end in _total, names and labels are well formed,
 * values are numbers. Returns samples by `name{labels}`.
 */
function parsePrometheus(text: string): Map<string, number> {
  expect(text.endsWith("\n")).toBe(true);
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  for (const line of text.slice(0, -1).split("\n")) {
    const type = new RegExp(`^# TYPE (${name}) (counter|gauge|summary|histogram|untyped)$`).exec(
      line,
    );
    if (type) {
      expect(types.has(type[1]!), `TYPE twice: ${line}`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (new RegExp(`^# HELP ${name} .+$`).test(line)) continue;
    const sample = new RegExp(
      `^(${name})(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*\\})? (\\S+)$`,
    ).exec(line);
    expect(sample, `not a sample line: ${line}`).not.toBeNull();
    const [, family, labels = "", value] = sample!;
    expect(types.has(family!), `sample before its TYPE: ${line}`).toBe(true);
    if (types.get(family!) === "counter") expect(family!.endsWith("_total")).toBe(true);
    const number = Number(value);
    expect(Number.isNaN(number) && value !== "NaN", `bad value: ${line}`).toBe(false);
    samples.set(`${family}${labels}`, number);
  }
  return samples;
}

describe("one port: HTTP beside chat", () => {
  it("serves /healthz, a placeholder at /, 404 elsewhere, and still greets nc", async () => {
    await using s = await startServer({ http: true, sniffTimeoutMs: 100 });
    const base = `http://127.0.0.1:${s.port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("ok\n");
    const home = await fetch(`${base}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get("content-type")).toMatch(/text\/html/);
    expect(await home.text()).toMatch(/nc HOST PORT/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: "POST", body: "x" })).status).toBe(405);
    const nc = await LineClient.greeted(s.port);
    nc.send("still a chat port");
    await nc.waitFor(/still a chat port/);
    nc.close();
    // HTTP requests are not chat sessions.
    expect(s.server.stats().sessionsOpened).toBe(1);
  });

  it("serves a static directory, and nothing outside it", async () => {
    await using s = await startServer({ http: { staticDir: site } });
    const base = `http://127.0.0.1:${s.port}`;
    const index = await fetch(`${base}/`);
    expect(await index.text()).toMatch(/chat app/);
    const script = await fetch(`${base}/assets/app.js`);
    expect(script.headers.get("content-type")).toMatch(/text\/javascript/);
    expect(await script.text()).toBe("console.log('chat');\n");
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    const relative = `../${secret.split("/").pop()}/key.txt`;
    for (const path of [
      `/${relative}`,
      `/${encodeURIComponent(relative)}`,
      "/..%2f..%2fetc%2fpasswd",
    ]) {
      const reply = await rawExchange(
        s.port,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(reply, path).toMatch(/^HTTP\/1\.1 404 /);
      expect(reply).not.toMatch(/do not serve/);
    }
  });

  it("bytes that arrived before the deadline count, even when the server was too busy to read them", async () => {
    await using s = await startServer({ http: true, sniffTimeoutMs: 50 });
    const socket = connect({ host: "127.0.0.1", port: s.port });
    let reply = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (reply += chunk));
    await new Promise((resolve) => socket.once("connect", resolve));
    // Let the server accept it, then keep its loop busy past the deadline with the request
    // already in the kernel: the deadline timer fires before the loop polls for that data.
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Sent and then busy in the check phase: the next loop turn runs the overdue deadline timer
    // before it polls, with the request waiting in the kernel.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        const busyUntil = Date.now() + 200;
        while (Date.now() < busyUntil) {
          // busy: the server cannot read
        }
        resolve();
      }),
    );
    await new Promise((resolve) => socket.once("close", resolve));
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
  });

  it("a request that comes after a silent client's text greeting is not read as chat", async () => {
    await using s = await startServer({ http: true, sniffTimeoutMs: 50 });
    const listener = await LineClient.greeted(s.port);
    const late = await LineClient.greeted(s.port);
    late.send("GET /healthz HTTP/1.1\r\nCookie: session=secret\r\n");
    await late.closed;
    listener.send("after the late request");
    await listener.waitFor(/after the late request/);
    expect(listener.lines.join("\n")).not.toMatch(/secret|HTTP\/1\.1/);
    listener.close();
  });

  it("limits requests: a head past the limit gets 431, a body 413", async () => {
    await using s = await startServer({ http: { maxHeaderBytes: 1024 } });
    const big = await rawExchange(
      s.port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${"a".repeat(4000)}\r\n\r\n`,
    );
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    const body = await rawExchange(
      s.port,
      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    );
    expect(body).toMatch(/^HTTP\/1\.1 413 /);
  });

  it("a request head that never ends is cut off at headersTimeoutMs", async () => {
    await using s = await startServer({ http: { headersTimeoutMs: 300 } });
    const started = Date.now();
    const reply = await rawExchange(s.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("the accept policy applies to HTTP: a denied address gets the refusal, not a page", async () => {
    await using s = await startServer({
      http: true,
      policy: createAcceptPolicy({ deny: ["127.0.0.2/32"] }),
    });
    const refused = await rawExchange(s.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", {
      localAddress: "127.0.0.2",
    });
    expect(refused).toMatch(/^!!! CHAT_ERR_REFUSED_DENIED/);
    expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
  });

  it("/metrics is the Prometheus text format, and its figures follow the traffic", async () => {
    await using s = await startServer({
      http: true,
      webSocket: true,
      sniffTimeoutMs: 100,
      policy: createAcceptPolicy({ deny: ["127.0.0.2/32"] }),
    });
    const alice = await LineClient.greeted(s.port);
    const bob = await LineClient.greeted(s.port);
    alice.send("hello bob");
    await bob.waitFor(/hello bob/);
    await rawExchange(s.port, "x\n", { localAddress: "127.0.0.2" });
    const response = await fetch(`http://127.0.0.1:${s.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const metrics = parsePrometheus(await response.text());
    expect(metrics.get('tcpchat_connections{mode="text",transport="tcp"}')).toBe(2);
    expect(metrics.get("tcpchat_messages_in_total")).toBe(1);
    expect(metrics.get("tcpchat_deliveries_total")).toBeGreaterThanOrEqual(2);
    expect(metrics.get("tcpchat_bytes_in_total")).toBe(Buffer.byteLength("hello bob\n"));
    expect(metrics.get("tcpchat_bytes_out_total")).toBeGreaterThan(0);
    expect(metrics.get("tcpchat_send_queue_cutoffs_total")).toBe(0);
    expect(metrics.get('tcpchat_refused_total{rule="deny",code="CHAT_ERR_REFUSED_DENIED"}')).toBe(
      1,
    );
    expect(metrics.get('tcpchat_event_loop_delay_seconds{quantile="0.99"}')).toBeGreaterThan(0);
    alice.close();
    bob.close();
  });
});
