import type { BenchOptions } from "../args.js";
import { GENERATOR_KINDS, type GeneratorKind, type LoadGenerator } from "./generator.js";
import { NATIVE_TRANSPORTS, NativeLoadPool, nativeGeneratorPath } from "./native-pool.js";
import { LoadPool } from "./pool.js";

/** Which generator a run uses, and, when it is not the one asked for or the default, why. */
export interface GeneratorChoice {
  kind: GeneratorKind;
  /** One line for the run's output when the native generator was passed over. */
  notice?: string;
}

/** The native generator cannot run this; what to say instead. */
export class GeneratorUnavailableError extends Error {}

/**
 * Picks the load generator: `--generator` when given (an error if native cannot run), else
 * native when it is built and speaks every transport asked for, else js with a notice.
 */
export function chooseGenerator(
  options: Pick<BenchOptions, "generator" | "transports">,
  /** Where the native generator was built; null: it was not. */
  executable: string | null = nativeGeneratorPath() ?? null,
): GeneratorChoice {
  if (options.generator === GENERATOR_KINDS.js) return { kind: GENERATOR_KINDS.js };
  const unsupported = options.transports.filter((t) => !NATIVE_TRANSPORTS.includes(t));
  let why: string | undefined;
  if (executable === null) {
    why = "the native load generator is not built (no C compiler at build time)";
  } else if (unsupported.length > 0) {
    why = `the native load generator does not speak ${unsupported.join(", ")}`;
  }
  if (why === undefined) return { kind: GENERATOR_KINDS.native };
  if (options.generator === GENERATOR_KINDS.native) {
    throw new GeneratorUnavailableError(`--generator native: ${why} (use --generator js)`);
  }
  return { kind: GENERATOR_KINDS.js, notice: `load generator: js, because ${why}` };
}

/** Starts the chosen generator with `workers` threads or processes. */
export function startGenerator(
  kind: GeneratorKind,
  workers: number | undefined,
  workerUrl?: URL,
): LoadGenerator {
  return kind === GENERATOR_KINDS.native
    ? new NativeLoadPool({ workers })
    : new LoadPool({ workers, workerUrl });
}
