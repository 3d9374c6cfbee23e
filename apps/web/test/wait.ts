/** Polls `check` until it holds; fails with `what()` after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean,
  what: () => string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
