import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

/** No rate limit: the tests send faster than a person types. */
export const UNLIMITED_RATES = {
  messageRate: 1_000_000,
  messageBurst: 1_000_000,
  requestRate: 1_000_000,
  requestBurst: 1_000_000,
};

/**
 * Fresh data directories for a test file's stores: each call of the returned function makes
 * one (`<tmp>/<prefix>XXXXXX`), and every one is removed after each test.
 */
export function useDataDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}
