import { describe, expect, it } from "vitest";
import { PASSWORD_GATE_REFUSAL, PasswordGate } from "./password-gate.js";

/** A task that finishes when told to, recording that it started. */
function controlled(started: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    task: async () => {
      started.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("PasswordGate", () => {
  it("runs at most maxRunning at once, the rest in order of arrival, and refuses past the queue", async () => {
    const gate = new PasswordGate({ maxRunning: 2, maxWaiting: 2, maxPerAddress: 10 });
    const started: string[] = [];
    const tasks = ["a", "b", "c", "d"].map((n) => controlled(started, n));
    const results = tasks.map((t, i) => gate.run(`10.0.0.${i}`, t.task));
    expect(gate.run("10.0.0.9", async () => "e")).toBe(PASSWORD_GATE_REFUSAL.busy);
    await flush();
    expect(started).toEqual(["a", "b"]);
    expect(gate.load).toEqual({ running: 2, waiting: 2 });
    tasks[1]!.finish();
    await flush();
    expect(started).toEqual(["a", "b", "c"]);
    for (const t of tasks) t.finish();
    expect(await Promise.all(results)).toEqual(["a", "b", "c", "d"]);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it("gives each address maxPerAddress running or waiting, and frees its share when they end", async () => {
    const gate = new PasswordGate({ maxRunning: 1, maxWaiting: 10, maxPerAddress: 2 });
    const started: string[] = [];
    const first = controlled(started, "1");
    const second = controlled(started, "2");
    const one = gate.run("10.0.0.1", first.task);
    const two = gate.run("10.0.0.1", second.task);
    expect(gate.run("10.0.0.1", async () => "3")).toBe(PASSWORD_GATE_REFUSAL.address);
    const other = gate.run("10.0.0.2", async () => "other");
    expect(typeof other).not.toBe("string");
    first.finish();
    second.finish();
    expect(await one).toBe("1");
    expect(await two).toBe("2");
    expect(await other).toBe("other");
    const again = gate.run("10.0.0.1", async () => "again");
    expect(await again).toBe("again");
  });

  it("frees the slot when a task fails", async () => {
    const gate = new PasswordGate({ maxRunning: 1, maxWaiting: 0, maxPerAddress: 1 });
    const failing = gate.run("10.0.0.1", async () => {
      throw new Error("scrypt failed");
    });
    await expect(failing).rejects.toThrow("scrypt failed");
    expect(await gate.run("10.0.0.1", async () => "next")).toBe("next");
  });
});
