import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { affinityOf, cpuNumbers, pinProcess, planPinning, threadsOffCpus } from "./pinning.js";

describe("--pin", () => {
  it("splits the CPUs: the first half to the server, the rest to the load generator", () => {
    expect(planPinning(1)).toBeUndefined();
    expect(planPinning(2)).toEqual({ server: "0", generator: "1" });
    expect(planPinning(3)).toEqual({ server: "0", generator: "1-2" });
    expect(planPinning(8)).toEqual({ server: "0-3", generator: "4-7" });
  });

  it("reads CPU lists in taskset's syntax", () => {
    expect(cpuNumbers("0")).toEqual([0]);
    expect(cpuNumbers("0,1")).toEqual([0, 1]);
    expect(cpuNumbers("0-1")).toEqual([0, 1]);
    expect(cpuNumbers("4-5,0,2")).toEqual([0, 2, 4, 5]);
  });

  it.runIf(process.platform === "linux" && availableParallelism() >= 2)(
    "pins every thread of a running process, as the kernel then reports it",
    async () => {
      // A Node child: several threads (V8's and libuv's), unlike a single-threaded sleep.
      const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], {
        stdio: "ignore",
      });
      try {
        await new Promise((resolve) => child.once("spawn", resolve));
        const pid = child.pid!;
        expect(threadsOffCpus(pid, "0").length).toBeGreaterThan(0);
        expect(pinProcess(pid, "0")).toBeUndefined();
        expect(threadsOffCpus(pid, "0")).toEqual([]);
        expect(affinityOf(pid)).toBe("0");
      } finally {
        child.kill("SIGKILL");
      }
    },
  );

  it("says why when a process cannot be pinned", () => {
    expect(pinProcess(2 ** 22 + 12345, "0")).toMatch(/.+/);
  });
});
