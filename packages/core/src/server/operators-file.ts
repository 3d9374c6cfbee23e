import { readFile } from "node:fs/promises";
import { ProtocolError } from "../errors.js";
import { normalizeName } from "../protocol/names.js";

/**
 * The operators file: account names, one per line, whose holders are operators once logged in
 * (besides accounts made operators with `tcpchat account op NAME`). `#` starts a comment; blank
 * lines are skipped. Every name must be a valid nick: a typo is an error at start, not an
 * operator nobody can be.
 *
 * @param file where the text came from, for the error message.
 * @throws {ProtocolError} CHAT_ERR_OPERATORS_FILE naming each bad line.
 */
export function parseOperatorsFile(text: string, file = "operators file"): string[] {
  const names: string[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const name = normalizeName(line, "nick");
    if (typeof name === "string" && !/\s/.test(line)) names.push(name);
    else
      problems.push(`line ${i + 1}: ${JSON.stringify(line.slice(0, 40))} is not an account name`);
  }
  if (problems.length > 0) {
    throw new ProtocolError("CHAT_ERR_OPERATORS_FILE", {
      message: `${file}: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}`,
    });
  }
  return names;
}

/**
 * Reads and parses an operators file (see {@link parseOperatorsFile}).
 * @throws {ProtocolError} CHAT_ERR_OPERATORS_FILE when it cannot be read or has a bad line.
 */
export async function loadOperatorsFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProtocolError("CHAT_ERR_OPERATORS_FILE", {
      message: `${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`,
      cause: error,
    });
  }
  return parseOperatorsFile(text, path);
}
