import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "@tcpchat/core";
import { describe, expect, it } from "vitest";
import { ATTACKER_KINDS, type AttackerKind, openConnection } from "../src/abuse/attacker.js";
import { ATTACK_DEFINITIONS } from "../src/abuse/attacks.js";
import { waitForLine } from "../src/abuse/group.js";
import { abuseChecks } from "../src/abuse/report.js";
import { abuseScale } from "../src/abuse/scale.js";
import { type AttackFigures, movedCounters } from "../src/scenarios/abuse.js";
import { startServerChild } from "../src/servers/server-handle.js";
import { useBuiltBench } from "./bench-process.js";

useBuiltBench("tcpchat-abuse-kinds-");

/** Every password defence lifted: no throttles, no gate worth the name, no request budget. */
const NO_PASSWORD_DEFENCES = {
  passwordLimits: {
    throttle: {
      freeFailures: 1_000_000,
      baseDelayMs: 1,
      maxDelayMs: 1,
      maxEntries: 1000,
      forgetAfterMs: 1000,
    },
    passwordGate: { maxRunning: 2, maxWaiting: 10_000, maxPerAddress: 10_000 },
  },
  requestRate: 1_000_000,
  requestBurst: 1_000_000,
};

/**
 * Runs login-flood with `kind` attackers from 127.0.0.2 against a real server (a child process
 * with a fresh data directory and `options`), without chatters, and judges it.
 */
async function loginFlood(kind: AttackerKind, options: Record<string, unknown>) {
  const dataDir = await mkdtemp(join(tmpdir(), "tcpchat-abuse-kinds-data-"));
  const handle = await startServerChild({
    kind: "tcpchat",
    dataDir,
    options,
    scriptUrl: new URL("../dist/server-child.js", import.meta.url),
  });
  const definition = ATTACK_DEFINITIONS["login-flood"];
  // Long enough for a dozen hashes one after another on a busy machine when nothing stops them.
  const scale = { ...abuseScale(true), phaseMs: 4000 };
  const attack = definition.create(
    { host: handle.host, port: handle.port, kind, localAddress: definition.attackerAddress },
    scale,
  );
  try {
    await attack.setup();
    const before = await handle.peek();
    await attack.start();
    const outcome = await attack.stop();
    const figures: AttackFigures = {
      attack: "login-flood",
      kind,
      title: definition.title(scale, kind),
      chatters: 0,
      idleRss: undefined,
      baseline: undefined,
      attacked: undefined,
      outcome,
      serverCounters: movedCounters(before.stats, (await handle.peek()).stats),
    };
    const hashCheck = abuseChecks(figures).find((c) => c.target.includes("password hashes"));
    return { figures, hashCheck };
  } finally {
    attack.close();
    await handle.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe("a password attack by a non-text client is judged on its own", () => {
  it("login-flood over JSON lines: met with the server's defences, missed once they are lifted", async () => {
    const defended = await loginFlood(ATTACKER_KINDS.json, {});
    expect(defended.figures.outcome?.connectFailures).toBe(0);
    // The JSON attackers hear the throttle in their own frames, and few of them cost a hash.
    expect(
      defended.figures.outcome?.passwords?.refused["CHAT_ERR_LOGIN_THROTTLED"],
    ).toBeGreaterThan(0);
    expect(defended.hashCheck?.status, defended.hashCheck?.seen).toBe("met");
    // The timed user (a text client on 127.0.0.1) logged in meanwhile.
    expect(defended.figures.outcome?.passwords?.userLoginsMs.length).toBeGreaterThan(0);

    const open = await loginFlood(ATTACKER_KINDS.json, NO_PASSWORD_DEFENCES);
    expect(open.figures.outcome?.passwords?.refused["CHAT_ERR_LOGIN_THROTTLED"]).toBeUndefined();
    expect(open.hashCheck?.status, open.hashCheck?.seen).toBe("missed");
  });
});

describe("a telnet attacker", () => {
  it("negotiates first, so the server answers it as telnet, and hears lines without the commands", async () => {
    const server = createServer({});
    const { port } = await server.listen(0, "127.0.0.1");
    try {
      const raw: Buffer[] = [];
      const attacker = await openConnection({
        host: "127.0.0.1",
        port,
        reads: true,
        startMs: performance.now(),
        kind: ATTACKER_KINDS.telnet,
      });
      attacker.socket.on("data", (chunk: Buffer) => raw.push(chunk));
      const renamed = waitForLine(attacker, (l) => l.includes("is now known as"), 5000);
      attacker.send("/nick telnetter\n");
      expect(await renamed).toMatch(/is now known as telnetter$/);
      // The server asked the telnet peer for 8-bit input: IAC DO TRANSMIT-BINARY.
      expect(Buffer.concat(raw).includes(Buffer.from([255, 253, 0]))).toBe(true);
      expect(attacker.watch.heard.lastLine).not.toContain("\u00ff");
      attacker.destroy();
    } finally {
      await server.close({ graceMs: 100 });
    }
  });
});
