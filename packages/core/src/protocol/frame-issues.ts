import type * as v from "valibot";

const ARTICLE: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  Array: "an array",
  Object: "an object",
};

/** `a.b[0].c`: where in the frame an issue is. */
function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = "";
  for (const item of issue.path ?? []) {
    const key = item.key;
    path += typeof key === "number" ? `[${key}]` : path === "" ? String(key) : `.${String(key)}`;
  }
  return path;
}

/**
 * Says in a few words what is wrong with a frame, naming the field: "`text` is missing",
 * "`rooms` must be an array", "unknown type \"launch\"", "`limits.messageRate` must be >0, got 0".
 * Pure (no `node:` import): shared by the server's and the client's parsers.
 */
export function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
  if (issue === undefined) return "it does not match the protocol";
  const path = issuePath(issue);
  if (issue.type === "variant" && path === "type") {
    return issue.input === undefined
      ? "`type` is missing"
      : `unknown type ${JSON.stringify(issue.input)}`;
  }
  if (path === "") return `it must be ${ARTICLE[issue.expected ?? ""] ?? issue.expected}`;
  if (issue.input === undefined) return `\`${path}\` is missing`;
  if (issue.kind === "validation") {
    return `\`${path}\` must be ${issue.expected ?? issue.type}, got ${issue.received}`;
  }
  return `\`${path}\` must be ${ARTICLE[issue.expected ?? ""] ?? issue.expected}, got ${issue.received}`;
}
