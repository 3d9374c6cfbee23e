import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findRedisServer, RedisNotFoundError, readProcessCpuSeconds } from "./redis-child.js";

describe("findRedisServer", () => {
  it("says where to get redis-server when PATH has none", () => {
    const empty = mkdtempSync(join(tmpdir(), "tcpchat-no-redis-"));
    try {
      expect(() => findRedisServer(empty)).toThrow(RedisNotFoundError);
      expect(() => findRedisServer(empty)).toThrow(
        /redis-server was not found on PATH.*apt-get install -y redis-server/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("finds an executable redis-server in a PATH directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-fake-redis-"));
    try {
      writeFileSync(join(dir, "redis-server"), "#!/bin/sh\n", { mode: 0o755 });
      expect(findRedisServer(`/nonexistent:${dir}`)).toBe(join(dir, "redis-server"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("readProcessCpuSeconds", () => {
  it("adds utime and stime (fields 14 and 15, in 1/100 s), even with spaces in the name", () => {
    const stat =
      "4242 (redis server *:6379) S 1 4242 4242 0 -1 4194560 512 0 0 0 250 130 0 0 20 0 5 0 100 0 0";
    expect(readProcessCpuSeconds(4242, stat)).toBeCloseTo(3.8, 6);
  });

  it("reads this process's own CPU time from /proc", () => {
    const seconds = readProcessCpuSeconds(process.pid);
    if (process.platform !== "linux") return;
    expect(seconds).toBeGreaterThan(0);
    expect(readProcessCpuSeconds(2 ** 30)).toBeUndefined();
  });
});
