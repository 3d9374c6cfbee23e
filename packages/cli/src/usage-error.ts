/** A bad command line: printed as one clear line on stderr, then the command exits with code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
