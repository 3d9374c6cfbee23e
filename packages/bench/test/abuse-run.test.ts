import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HANDLING } from "../src/abuse/handling.js";
import type { BenchResults } from "../src/suite.js";
import { runBench, useBuiltBench } from "./bench-process.js";

const tempDir = useBuiltBench("tcpchat-abuse-");

describe("abuse scenario end to end", () => {
  it("runs an attack beside a baseline against a real tcpchat server and reports both", async () => {
    const json = join(tempDir(), "abuse.json");
    const run = await runBench([
      "--scenario",
      "abuse",
      "--quick",
      "--attack",
      "error-flood,help-flood",
      "--json",
      json,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^attack\s+p99\s+kept\s+peak RSS\s+handled\s+targets$/m);
    expect(run.stdout).toContain(
      "error-flood: 1 connection sending messages far above the rate limit",
    );
    const results = JSON.parse(await readFile(json, "utf8")) as BenchResults;
    const attacks = results.scenarios.abuse?.attacks ?? [];
    expect(attacks.map((a) => a.attack)).toEqual(["help-flood", "error-flood"]);
    for (const figures of attacks) {
      expect(figures.error).toBeUndefined();
      // The chatters' baseline is whole: every message reached every chatter.
      expect(figures.baseline?.sent).toBeGreaterThan(0);
      expect(figures.baseline?.delivered).toBe(figures.baseline?.expected);
      expect(figures.attacked?.latency.count).toBeGreaterThan(0);
      expect(figures.idleRss).toBeGreaterThan(0);
      expect(figures.attacked?.peakRss).toBeGreaterThan(0);
      expect(figures.outcome?.bytesSent).toBeGreaterThan(0);
    }
    const [help, errors] = attacks;
    expect(help?.outcome?.connections).toBe(results.scenarios.abuse?.scale.floodConnections);
    // Whatever the server does about it, the help flood makes it do something to someone.
    expect(help?.outcome?.handling.byHandling[HANDLING.none]).toBeLessThan(
      help?.outcome?.connections ?? 0,
    );
    // Every message past the burst is refused, and the attacker, who reads, hears it at once.
    expect(errors?.outcome?.heard.throttleLines).toBeGreaterThan(0);
    expect(errors?.outcome?.handling.firstSignMs).toBeDefined();
    expect(errors?.serverCounters["rateLimited"]).toBeGreaterThan(0);
  });

  it("attacks with JSON-line, WebSocket and TLS clients on the same port, judged by the same targets", async () => {
    const json = join(tempDir(), "kinds.json");
    const attacks = [
      "json-help-flood",
      "ws-help-flood",
      "tls-help-flood",
      "ws-oversized",
      "ws-slowloris",
      "tls-slowloris",
    ];
    const run = await runBench([
      "--quick",
      "--scenario",
      "abuse",
      "--attack",
      attacks.join(","),
      "--json",
      json,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const results = JSON.parse(await readFile(json, "utf8")) as BenchResults;
    const abuse = results.scenarios.abuse!;
    expect(abuse.attacks.map((a) => a.attack)).toEqual(attacks);
    const by = Object.fromEntries(abuse.attacks.map((a) => [a.attack, a]));
    for (const figures of abuse.attacks) {
      expect(figures.error, figures.attack).toBeUndefined();
      expect(figures.baseline?.delivered).toBe(figures.baseline?.expected);
      expect(figures.attacked?.latency.count).toBeGreaterThan(0);
      expect(figures.outcome?.bytesSent, figures.attack).toBeGreaterThan(0);
      // The same targets as the text attacks: chatters' latency and throughput, server memory.
      expect(run.stdout).toContain(`${figures.attack}: `);
    }
    for (const name of ["json-help-flood", "ws-help-flood", "tls-help-flood"]) {
      const outcome = by[name]?.outcome;
      // Every flooder got in (upgrade, hello or handshake done) and the server held it back.
      expect(outcome?.connectFailures, name).toBe(0);
      expect(outcome?.connections).toBe(abuse.scale.floodConnections);
      expect(outcome?.handling.byHandling[HANDLING.none], name).toBeLessThan(
        abuse.scale.floodConnections,
      );
    }
    // A frame announcing 1 MiB, over the line limit, is refused from its header: cut off.
    expect(by["ws-oversized"]?.outcome?.handling.byHandling[HANDLING.cutOff]).toBe(
      abuse.scale.floodConnections,
    );
    for (const name of ["ws-slowloris", "tls-slowloris"]) {
      const outcome = by[name]?.outcome;
      expect(outcome?.connections, name).toBe(abuse.scale.dripSockets);
      expect(outcome?.newChatter?.attempts, name).toBeGreaterThan(0);
      // A socket stuck in its upgrade head or its ClientHello makes room at the cap, as a
      // lineless text client does: the newcomer gets in while the drips go on.
      expect(outcome?.newChatter?.connected, name).toBe(true);
      expect(run.stdout).toMatch(new RegExp(`${name}: [\\s\\S]*a new chatter gets in`));
    }
  });

  it("telnet attackers sending commands instead of lines are held back like line floods", async () => {
    const json = join(tempDir(), "telnet.json");
    const attacks = ["telnet-timing-mark-flood", "telnet-interrupt-flood"];
    const run = await runBench([
      "--quick",
      "--scenario",
      "abuse",
      "--attack",
      attacks.join(","),
      "--json",
      json,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const results = JSON.parse(await readFile(json, "utf8")) as BenchResults;
    const abuse = results.scenarios.abuse!;
    expect(abuse.attacks.map((a) => a.attack)).toEqual(attacks);
    for (const figures of abuse.attacks) {
      expect(figures.error, figures.attack).toBeUndefined();
      expect(figures.baseline?.delivered).toBe(figures.baseline?.expected);
      const outcome = figures.outcome;
      expect(outcome?.connectFailures, figures.attack).toBe(0);
      expect(outcome?.connections).toBe(abuse.scale.floodConnections);
      // Every answer to a command costs budget: none of them is served without limit.
      expect(outcome?.handling.byHandling[HANDLING.none], figures.attack).toBe(0);
    }
  });
});
