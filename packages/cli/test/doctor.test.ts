import { createServer as createNetServer } from "node:net";
import { createServer as createChatServer } from "@tcpchat/core";
import { afterEach, describe, expect, it } from "vitest";
import { startBlackhole } from "./helpers/blackhole.js";
import { killAllCli, runCliToEnd } from "./helpers/cli-process.js";
import { startLineServer } from "./helpers/line-server.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killAllCli();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function doctorJson(args: string[]) {
  const result = await runCliToEnd(["doctor", ...args, "--json"]);
  return { code: result.code, report: JSON.parse(result.stdout), stderr: result.stderr };
}

async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("doctor", () => {
  it("says listening, with the greeting's version, for a live tcpchat server", async () => {
    const server = createChatServer();
    const { port } = await server.listen(0, "127.0.0.1");
    cleanups.push(() => server.close({ graceMs: 0 }));
    const { code, report } = await doctorJson([`127.0.0.1:${port}`]);
    expect(code).toBe(0);
    expect(report.verdict).toBe("listening");
    expect(report.attempts[0]).toMatchObject({
      address: "127.0.0.1",
      result: "listening",
      greeting: { version: 1 },
    });
    expect(report.attempts[0].greeting.software).toMatch(/^tcpchat /);
    // The command it names is how this test started the program (node PATH), as typed.
    expect(report.advice).toMatch(/Join with: node \S+main\.js connect 127\.0\.0\.1:\d+/);
  });

  it("says listening but not tcpchat for another line server", async () => {
    const server = await startLineServer("SSH-2.0-not-a-chat");
    cleanups.push(server.close);
    const { code, report } = await doctorJson([`127.0.0.1:${server.port}`]);
    expect(code).toBe(0);
    expect(report.verdict).toBe("listening");
    expect(report.attempts[0].firstLine).toBe("SSH-2.0-not-a-chat");
    expect(report.advice).toMatch(/not tcpchat.*--raw/);
  });

  it("says refused, exit 3, for a closed loopback port", async () => {
    const port = await closedPort();
    const { code, report } = await doctorJson([`127.0.0.1:${port}`]);
    expect(code).toBe(3);
    expect(report.verdict).toBe("refused");
    expect(report.attempts[0].error.syscallCode).toBe("ECONNREFUSED");
    expect(report.advice).toMatch(new RegExp(`main\\.js serve --port ${port}`));
  });

  it("says timed out, exit 4, with firewall commands, when SYNs are dropped", async () => {
    const blackhole = await startBlackhole();
    cleanups.push(blackhole.close);
    const { code, report } = await doctorJson([`127.0.0.1:${blackhole.port}`, "--timeout", "800"]);
    expect(code).toBe(4);
    expect(report.verdict).toBe("timed-out");
    const commands = report.firewall.flatMap((r: { commands: string[] }) => r.commands).join("\n");
    const port = blackhole.port;
    expect(commands).toContain(`sudo ufw allow ${port}/tcp`);
    expect(commands).toContain(`sudo firewall-cmd --permanent --add-port=${port}/tcp`);
    expect(commands).toContain(`tcp dport ${port} accept`);
    expect(commands).toContain(
      `netsh advfirewall firewall add rule name="tcpchat ${port}" dir=in action=allow protocol=TCP localport=${port}`,
    );
    expect(commands).toContain(
      `New-NetFirewallRule -DisplayName "tcpchat ${port}" -Direction Inbound -Protocol TCP -LocalPort ${port} -Action Allow`,
    );
    expect(commands).toMatch(/pfctl/);
  });

  it("says refused by policy, exit 5, with the server's reason", async () => {
    const server = createChatServer({
      policy: {
        decide: () => ({
          accept: false,
          code: "CHAT_ERR_REFUSED_DENIED",
          message: "Your address is on this server's deny list.",
          rule: "deny",
        }),
      },
    });
    const { port } = await server.listen(0, "127.0.0.1");
    cleanups.push(() => server.close({ graceMs: 0 }));
    const { code, report } = await doctorJson([`127.0.0.1:${port}`]);
    expect(code).toBe(5);
    expect(report.verdict).toBe("refused-by-policy");
    expect(report.attempts[0].error.code).toBe("CHAT_ERR_REFUSED_DENIED");
    expect(report.advice).toMatch(/deny list/);
  });

  it("--local finds the port bound to loopback only and warns", async () => {
    const server = createChatServer();
    const { port } = await server.listen(0, "127.0.0.1");
    cleanups.push(() => server.close({ graceMs: 0 }));
    const { code, report } = await doctorJson(["--local", String(port)]);
    expect(code).toBe(1);
    expect(report.verdict).toBe("loopback-only");
    expect(report.local).toMatchObject({
      port,
      addresses: ["127.0.0.1"],
      loopbackOnly: true,
      reachableAt: [],
    });
    const text = await runCliToEnd(["doctor", "--local", String(port)]);
    expect(text.stdout).toMatch(/WARNING: bound to loopback only/);
  });

  it("--local on a free port says plainly that nothing listens, exit 3", async () => {
    const port = await closedPort();
    const { code, report } = await doctorJson(["--local", String(port)]);
    expect(code).toBe(3);
    expect(report.verdict).toBe("not-listening");
    expect(report.local).toMatchObject({ port, addresses: [] });
    const text = await runCliToEnd(["doctor", "--local", String(port)]);
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(
      /Verdict: not-listening\nNothing listens on port \d+ on this machine/,
    );
  });

  it("--local on a port bound on every interface says listening, exit 0", async () => {
    const server = createChatServer();
    const { port } = await server.listen(0, "0.0.0.0");
    cleanups.push(() => server.close({ graceMs: 0 }));
    const { code, report } = await doctorJson(["--local", String(port)]);
    expect(code).toBe(0);
    expect(report.verdict).toBe("listening");
    expect(report.local.addresses).toEqual(["0.0.0.0"]);
  });

  it("prints the steps for people", async () => {
    const port = await closedPort();
    const { code, stdout } = await runCliToEnd(["doctor", `localhost:${port}`]);
    expect(code).toBe(3);
    expect(stdout).toMatch(/^1\. DNS: localhost\n {3}-> /);
    expect(stdout).toMatch(/2\. TCP connect to port \d+ \(timeout 3000 ms\)/);
    expect(stdout).toMatch(/Verdict: refused/);
  });
});
