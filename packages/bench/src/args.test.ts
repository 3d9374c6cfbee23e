import { describe, expect, it } from "vitest";
import { ATTACKS } from "./abuse/scale.js";
import { DEFAULT_CONNECT_WINDOW, parseArgs, UsageError } from "./args.js";

describe("parseArgs", () => {
  it("has the documented defaults and drops the -- pnpm passes through", () => {
    const options = parseArgs(["--"]);
    expect(options.clients).toBe(500);
    // Abuse runs only when asked for by name: it takes minutes and attacks the server.
    expect(options.scenarios).toEqual([
      "connect",
      "idle",
      "broadcast",
      "broadcast-history",
      "echo",
      "slow-reader",
    ]);
    expect(options.attacks).toEqual([...ATTACKS]);
    expect(options.senders).toBe(10);
    expect(options.size).toBe(64);
    expect(options.openLoopFraction).toBe(0.5);
    expect(options.baseline).toBe(true);
  });

  it("reads values given with a space or an equals sign", () => {
    const options = parseArgs([
      "--clients=10000",
      "--scenario",
      "idle,connect",
      "--json",
      "out.json",
      "--markdown",
    ]);
    expect(options.clients).toBe(10000);
    expect(options.scenarios).toEqual(["connect", "idle"]);
    expect(options.json).toBe("out.json");
    expect(options.markdown).toBe(true);
  });

  it("picks attacks for the abuse scenario by name", () => {
    const options = parseArgs(["--scenario", "abuse", "--attack", "slow-drip,help-flood"]);
    expect(options.scenarios).toEqual(["abuse"]);
    expect(options.attacks).toEqual(["help-flood", "slow-drip"]);
    expect(() => parseArgs(["--attack", "ping-of-death"])).toThrow(
      'unknown attack "ping-of-death"; choose from help-flood, unknown-command, who-flood',
    );
  });

  it("picks the kinds of attacker the cost attacks run with", () => {
    expect(parseArgs([]).attackerKinds).toEqual(["text", "json", "ws", "tls", "telnet"]);
    expect(parseArgs(["--attacker", "telnet,json"]).attackerKinds).toEqual(["json", "telnet"]);
    expect(() => parseArgs(["--attacker", "carrier-pigeon"])).toThrow(
      'unknown kind of attacker "carrier-pigeon"; choose from text, json, ws, tls, telnet',
    );
  });

  it("makes --quick small and short", () => {
    const options = parseArgs(["--quick"]);
    expect(options.clients).toBeLessThanOrEqual(50);
    expect(options.durationMs).toBeLessThanOrEqual(500);
  });

  it("limits --target to the line scenarios and drops the baseline", () => {
    const options = parseArgs(["--target", "127.0.0.1:7000", "--protocol", "text"]);
    expect(options.target).toEqual({ host: "127.0.0.1", port: 7000 });
    expect(options.scenarios).toEqual(["connect", "broadcast", "echo"]);
    expect(options.baseline).toBe(false);
    expect(() => parseArgs(["--target", "127.0.0.1:7000", "--scenario", "idle"])).toThrow(
      /only connect/,
    );
  });

  it("accepts --no-self-echo only with --target, and then skips echo", () => {
    const options = parseArgs(["--target", "127.0.0.1:7000", "--no-self-echo"]);
    expect(options.selfEcho).toBe(false);
    expect(options.scenarios).toEqual(["connect", "broadcast"]);
    expect(() => parseArgs(["--no-self-echo"])).toThrow(/only with --target/);
    expect(() =>
      parseArgs(["--target", "127.0.0.1:7000", "--no-self-echo", "--scenario", "echo"]),
    ).toThrow(/echo scenario needs/);
  });

  it("explains mistakes", () => {
    expect(() => parseArgs(["--clients", "0"])).toThrow(UsageError);
    expect(() => parseArgs(["--scenario", "nope"])).toThrow(/unknown scenario "nope"/);
    expect(() => parseArgs(["--target", "localhost"])).toThrow(/HOST:PORT/);
    expect(() => parseArgs(["--protocol", "json"])).toThrow(/only "text"/);
    expect(() => parseArgs(["--size", "10"])).toThrow(/at least/);
    expect(() => parseArgs(["--frobnicate"])).toThrow(/unknown option --frobnicate/);
  });

  it("takes a connect window, 0 for all at once, and refuses a negative one", () => {
    expect(parseArgs([]).connectWindow).toBe(DEFAULT_CONNECT_WINDOW);
    expect(parseArgs(["--connect-window", "0"]).connectWindow).toBe(0);
    expect(parseArgs(["--connect-window=64"]).connectWindow).toBe(64);
    expect(() => parseArgs(["--connect-window", "-1"])).toThrow(
      "--connect-window needs a whole number of 0 or more, got -1",
    );
  });

  it("never has more senders than clients", () => {
    expect(parseArgs(["--clients", "3"]).senders).toBe(3);
  });

  it("measures WebSocket and TLS beside TCP, which always comes first as the reference", () => {
    expect(parseArgs([]).transports).toEqual(["tcp"]);
    expect(parseArgs(["--transport", "ws"]).transports).toEqual(["tcp", "ws"]);
    expect(parseArgs(["--tls"]).transports).toEqual(["tcp", "tls"]);
    expect(parseArgs(["--transport=tls,ws", "--tls"]).transports).toEqual(["tcp", "ws", "tls"]);
    expect(parseArgs(["--transport=ws,json"]).transports).toEqual(["tcp", "json", "ws"]);
    expect(() => parseArgs(["--transport", "quic"])).toThrow(
      'unknown transport "quic"; choose from tcp, json, ws, tls',
    );
    expect(() => parseArgs(["--target", "127.0.0.1:6667", "--transport", "ws"])).toThrow(
      "--transport json, ws and --tls measure tcpchat; not with --target",
    );
  });

  it("takes tcpchat server options and a sweep of room sizes", () => {
    const options = parseArgs([
      "--server-option",
      "flushAtOnceWrites=0",
      "--server-option=defaultRoom=hall",
      "--server-option",
      'history={"writeThread":false}',
      "--sweep",
      "clients=100,500,1000",
    ]);
    expect(options.serverOptions).toEqual({
      flushAtOnceWrites: 0,
      defaultRoom: "hall",
      history: { writeThread: false },
    });
    expect(() => parseArgs(["--server-option", "history={writeThread}"])).toThrow(/not valid JSON/);
    expect(options.sweep).toEqual([100, 500, 1000]);
    expect(() => parseArgs(["--server-option", "flushAtOnceWrites"])).toThrow(/KEY=VALUE/);
    expect(() => parseArgs(["--sweep", "senders=1,2"])).toThrow(/only clients=/);
    expect(() => parseArgs(["--sweep", "clients=10,x"])).toThrow(/positive whole number/);
  });

  it("takes --pin, but not with --nodes (the nodes and Redis share the cores)", () => {
    expect(parseArgs(["--"]).pin).toBe(false);
    expect(parseArgs(["--pin"]).pin).toBe(true);
    expect(() => parseArgs(["--pin", "--nodes", "2"])).toThrow(/--pin .* --nodes/);
  });

  it("runs the cluster alone with --nodes, beside other scenarios only when they are named", () => {
    expect(parseArgs(["--"]).nodes).toBeUndefined();
    const alone = parseArgs(["--nodes", "2"]);
    expect(alone.nodes).toBe(2);
    expect(alone.scenarios).toEqual([]);
    expect(parseArgs(["--nodes=3", "--scenario", "broadcast"]).scenarios).toEqual(["broadcast"]);
    expect(() => parseArgs(["--nodes", "1"])).toThrow(/2 or more/);
    expect(() => parseArgs(["--nodes", "2", "--target", "127.0.0.1:7000"])).toThrow(
      /not with --target/,
    );
  });
});
