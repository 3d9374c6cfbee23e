import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { type PolicyConfig, PolicyFileError } from "./config.js";
import { validatePolicyConfig } from "./validate.js";

/** Formats a policy file may be written in. */
export type PolicyFileFormat = "json" | "toml";

function syntaxError(format: PolicyFileFormat, error: unknown): PolicyFileError {
  if (error instanceof TomlError) {
    // smol-toml's message carries a code excerpt after the first line; the position is enough.
    const summary = error.message.split("\n")[0] ?? "invalid TOML";
    return new PolicyFileError([
      {
        path: "",
        message: `not valid TOML: ${summary} (line ${error.line}, column ${error.column})`,
      },
    ]);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new PolicyFileError([
    { path: "", message: `not valid ${format.toUpperCase()}: ${reason}` },
  ]);
}

/**
 * Parses and validates the text of a policy file. The schema is {@link PolicyConfig} without
 * `custom` (code cannot live in a file); field names are the same in JSON and TOML, and JSON
 * may carry a `$schema` field. Unknown fields are errors, so a typo does not silently disable a
 * rule.
 * @returns the config, or a {@link PolicyFileError} listing every problem as `field: why`.
 */
export function parsePolicyFile(
  text: string,
  format: PolicyFileFormat,
): PolicyConfig | PolicyFileError {
  let value: unknown;
  try {
    value = format === "json" ? JSON.parse(text) : parseToml(text);
  } catch (error) {
    return syntaxError(format, error);
  }
  const validated = validatePolicyConfig(value, "file");
  return Array.isArray(validated) ? new PolicyFileError(validated) : validated.config;
}

/** The format a file name implies: `.json`, or `.toml`; undefined for anything else. */
export function policyFileFormat(path: string): PolicyFileFormat | undefined {
  const extension = extname(path).toLowerCase();
  if (extension === ".json") return "json";
  if (extension === ".toml") return "toml";
  return undefined;
}

/**
 * Reads, parses and validates a policy file; the format comes from the extension (`.json` or
 * `.toml`).
 * @throws {PolicyFileError} (with `file` set) if the file cannot be read, has another extension,
 *   or is invalid.
 */
export async function loadPolicyFile(path: string): Promise<PolicyConfig> {
  const format = policyFileFormat(path);
  if (format === undefined) {
    throw new PolicyFileError(
      [{ path: "", message: "the file name must end in .json or .toml" }],
      path,
    );
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PolicyFileError([{ path: "", message: `cannot read the file: ${reason}` }], path);
  }
  if (text.trim() === "") {
    // Most often an editor that truncates before it writes: an empty file is never "allow all".
    throw new PolicyFileError(
      [{ path: "", message: "the file is empty; write at least one rule (or delete --policy)" }],
      path,
    );
  }
  const parsed = parsePolicyFile(text, format);
  if (parsed instanceof PolicyFileError) throw new PolicyFileError(parsed.issues, path);
  return parsed;
}
