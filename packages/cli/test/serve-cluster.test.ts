import { execFileSync } from "node:child_process";
import { connect, type Socket } from "node:net";
import { freePort, RedisServer } from "@tcpchat/testing/redis-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAllCli, runCliToEnd, waitUntil } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

/** A text client on a raw socket (what nc is): every line it got, and a way to type. */
class Peer {
  readonly lines: string[] = [];
  private buffered = "";
  constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("error", () => {});
    socket.on("data", (text: string) => {
      this.buffered += text;
      const parts = this.buffered.split("\n");
      this.buffered = parts.pop()!;
      this.lines.push(...parts);
    });
  }
  static async open(port: number, localAddress?: string): Promise<Peer> {
    const socket = connect({ host: "127.0.0.1", port, ...(localAddress ? { localAddress } : {}) });
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new Peer(socket);
  }
  send(line: string): void {
    this.socket.write(`${line}\n`);
  }
  has(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line));
  }
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    await waitUntil(() => this.has(pattern), `${pattern} in:\n${this.lines.join("\n")}`, timeoutMs);
  }
}

const peers: Peer[] = [];
let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.[Symbol.asyncDispose]();
});
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.socket.destroy();
  await killAllCli();
});

async function peer(port: number, nick: string, localAddress?: string): Promise<Peer> {
  const client = await Peer.open(port, localAddress);
  peers.push(client);
  await client.waitFor(/^\*\*\* tcpchat\/1 /);
  client.send(`/nick ${nick}`);
  await client.waitFor(new RegExp(`is now known as ${nick}|you are ${nick}`));
  return client;
}

describe("serve --redis and --workers", () => {
  it("refuses --workers above 1 without --redis, with its code and a hint", async () => {
    const { code, stderr } = await runCliToEnd(["serve", "--port", "0", "--workers", "4"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/CHAT_ERR_WORKERS_NEED_REDIS: --workers above 1 needs --redis/);
    expect(stderr).toMatch(/hint: Start a Redis/);
  });

  it("refuses a data directory for --workers above 1 (one server holds a directory), once", async () => {
    const { code, stderr } = await runCliToEnd([
      "serve",
      "--port",
      "0",
      "--workers",
      "2",
      "--redis",
      "redis://127.0.0.1:6379",
      "--data",
      "chat-data",
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--data chat-data cannot be shared by --workers 2/);
    // Refused by the command before any worker started, not by each worker.
    expect(stderr.match(/cannot be shared/g)).toHaveLength(1);
  });

  it("does not start when Redis cannot be reached", async () => {
    const closed = await freePort();
    const { code, stderr } = await runCliToEnd([
      "serve",
      "--port",
      "0",
      "--no-console",
      "--redis",
      `redis://127.0.0.1:${closed}`,
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /CHAT_ERR_REDIS_UNREACHABLE: Cannot reach Redis at redis:\/\/127\.0\.0\.1/,
    );
    expect(stderr).toMatch(/hint: Check the --redis URL/);
  });

  it("the console's /stats shows this node's cluster figures and every live node", async () => {
    const one = await startServe(["--redis", redis.url]);
    const two = await startServe(["--no-console", "--redis", redis.url]);
    const nodeTwo = /node=(\w+)/.exec(two.serve.stderr)![1]!;
    await peer(two.port, "statsy");
    // The list is as of the last heartbeat (every second): ask until both nodes are in it.
    await waitUntil(
      () => {
        one.serve.write("/stats\n");
        return new RegExp(`nodes \\(2\\):.*${nodeTwo} 1 connections`).test(one.serve.stdout);
      },
      "both nodes in /stats",
      10_000,
    );
    expect(one.serve.stdout).toMatch(/cluster node \w+: batches published \d+, received \d+/);
    expect(one.serve.stdout).toMatch(/\(this one\) 0 connections/);
  });

  it("a ban made at one node's console refuses that address on the other node; /unban there lifts it on both", async () => {
    const one = await startServe(["--redis", redis.url]);
    const two = await startServe(["--redis", redis.url]);
    one.serve.write("/ban 127.0.0.3 10m made on node one\n");
    await one.serve.waitForStdout(/\*\*\* banned 127\.0\.0\.3 for 10m00s/);
    await waitUntil(
      () => {
        two.serve.write("/bans\n");
        return /127\.0\.0\.3.*made on node one/.test(two.serve.stdout);
      },
      "node two to list the ban",
      10_000,
    );
    const refused = connect({ host: "127.0.0.1", port: two.port, localAddress: "127.0.0.3" });
    refused.on("error", () => {});
    let said = "";
    refused.setEncoding("utf8").on("data", (text: string) => {
      said += text;
    });
    await new Promise((resolve) => refused.once("close", resolve));
    expect(said).toMatch(/^!!! CHAT_ERR_REFUSED_BANNED: .*made on node one/);

    two.serve.write("/unban 127.0.0.3\n");
    await two.serve.waitForStdout(/\*\*\* unbanned 127\.0\.0\.3/);
    await waitUntil(
      () => {
        one.serve.write("/bans\n");
        return one.serve.stdout.includes("*** no bans");
      },
      "node one to lift the ban",
      10_000,
    );
  });

  it("the console's /ban --kick at one node disconnects the banned address's clients on the other", async () => {
    const one = await startServe(["--redis", redis.url]);
    const two = await startServe(["--no-console", "--redis", redis.url]);
    // Nicks of their own: a killed node's nicks stay claimed until its heartbeat expires.
    const banned = await peer(two.port, "spammer", "127.0.0.4");
    const other = await peer(two.port, "bystander");
    one.serve.write("/ban 127.0.0.4 10m --kick spam from there\n");
    await one.serve.waitForStdout(
      /\*\*\* banned 127\.0\.0\.4 for 10m00s; disconnected 1 client \(1 on other nodes\)/,
    );
    await banned.waitFor(/^!!! CHAT_ERR_BANNED: spam from there/);
    await new Promise((resolve) =>
      banned.socket.closed ? resolve(undefined) : banned.socket.once("close", resolve),
    );
    expect(other.has(/CHAT_ERR_BANNED/)).toBe(false);
  });

  it("the console's /kick at one node ends a client on the other, and /topic there reaches the other's members", async () => {
    const one = await startServe(["--redis", redis.url]);
    const two = await startServe(["--no-console", "--redis", redis.url]);
    const bob = await peer(two.port, "bob");
    const carol = await peer(two.port, "carol");
    one.serve.write("/topic #lobby set at node one\n");
    await carol.waitFor(/topic.*set at node one/);
    // Node one learns that node two holds bob asynchronously: asked again until it does.
    let askedAt = 0;
    await waitUntil(
      () => {
        if (one.serve.stdout.includes("*** kicked bob (on another node)")) return true;
        if (Date.now() - askedAt > 200) {
          askedAt = Date.now();
          one.serve.write("/kick bob enough\n");
        }
        return false;
      },
      "node one to kick bob on node two",
      10_000,
    );
    await bob.waitFor(/^!!! CHAT_ERR_KICKED: enough/);
    one.serve.write("/kick nobody-at-all\n");
    await one.serve.waitForStdout(/!!! nobody called nobody-at-all is connected/);
  });

  it("a node killed with SIGKILL: its members leave the rooms of the other node", async () => {
    const flags = ["--no-console", "--redis", redis.url];
    const one = await startServe(flags);
    const two = await startServe(flags);
    const alice = await peer(one.port, "alice");
    const bob = await peer(two.port, "bob");
    await alice.waitFor(/^#lobby --> bob joined$/);
    alice.send("/who");
    await alice.waitFor(/bob/);

    const killedAt = Date.now();
    two.serve.signal("SIGKILL");
    await alice.waitFor(/^#lobby <-- bob left \(node lost\)$/, 8000);
    const goneAfterMs = Date.now() - killedAt;
    if (process.env.TCPCHAT_PRINT_FIGURES) console.log(`gone after ${goneAfterMs} ms`);
    const before = alice.lines.length;
    alice.send("/who");
    await waitUntil(() => alice.lines.length > before, "the answer to /who");
    expect(alice.lines.slice(before).join("\n")).not.toMatch(/bob/);
    // The target: gone within 5 s (heartbeats every 1 s, a node expires after 3 s).
    expect(goneAfterMs).toBeLessThan(5000);
    // bob's nick is free again on the cluster.
    alice.send("/nick bob");
    await alice.waitFor(/alice is now known as bob/);
    expect(bob.has(/left \(node lost\)/)).toBe(false);
  });

  it("--workers 2 shares one port between two nodes that chat through Redis", async () => {
    const ownRedis = await RedisServer.start();
    try {
      const { serve, port } = await startServe([
        "--no-console",
        "--redis",
        ownRedis.url,
        "--workers",
        "2",
      ]);
      await serve.waitForStderr(/listening on[^\n]*node=\w+[\s\S]*listening on[^\n]*node=\w+/);
      const nodes = [...serve.stderr.matchAll(/node=(\w+)/g)].map((m) => m[1]);
      expect(new Set(nodes).size).toBe(2);
      // Node's cluster module hands connections to the workers in turn.
      const clients: Peer[] = [];
      for (const nick of ["w1", "w2", "w3", "w4"]) clients.push(await peer(port, nick));
      const members = execFileSync(
        "redis-cli",
        ["-p", String(ownRedis.port), "hgetall", "tcpchat:room:lobby:members"],
        {
          encoding: "utf8",
        },
      );
      const holders = new Set(
        members
          .trim()
          .split("\n")
          .filter((_, i) => i % 2 === 1),
      );
      expect(holders.size).toBe(2);
      clients[0]!.send("hello from w1");
      for (const client of clients) await client.waitFor(/^#lobby <w1> hello from w1$/);
      serve.signal("SIGTERM");
      expect(await serve.waitExit(10_000)).toBe(0);
    } finally {
      await ownRedis[Symbol.asyncDispose]();
    }
  });
});
