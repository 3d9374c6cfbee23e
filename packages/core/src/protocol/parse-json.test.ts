import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { describeIssue } from "./frame-issues.js";
import { CLIENT_FRAME_SCHEMA, CLIENT_FRAME_SCHEMAS } from "./frame-schema.js";
import { parseClientFrame } from "./parse-json.js";

/** What the variant of every request schema says of a line: the verdict before the lookup by type. */
function variantVerdict(line: string): unknown {
  const value = JSON.parse(line) as Record<string, unknown>;
  const result = v.safeParse(CLIENT_FRAME_SCHEMA, value);
  if (result.success) return result.output;
  const ref = typeof value.ref === "string" ? value.ref : undefined;
  return { message: `The line is not a valid frame: ${describeIssue(result.issues[0])}.`, ref };
}

function verdict(line: string): unknown {
  const parsed = parseClientFrame(line);
  if (!(parsed instanceof Error)) return parsed;
  return { message: parsed.message, ref: (parsed as { ref?: string }).ref };
}

const TYPES = Object.keys(CLIENT_FRAME_SCHEMAS);
/** Every field any request has, so that random objects often come close to a valid frame. */
const FIELDS = [
  ...new Set(Object.values(CLIENT_FRAME_SCHEMAS).flatMap((s) => Object.keys(s.entries))),
];

const anyValue = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constantFrom("latest", "before", "x"),
);
const typeValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TYPES) },
  { weight: 1, arbitrary: fc.constantFrom("launch", "toString", "__proto__", "constructor", "") },
  { weight: 1, arbitrary: anyValue },
);
const frameObject = fc
  .tuple(
    fc.option(typeValue, { nil: undefined, freq: 8 }),
    fc.dictionary(fc.constantFrom(...FIELDS, "extra"), anyValue, { maxKeys: 5 }),
  )
  .map(([type, rest]) => {
    const { type: _ignored, ...fields } = rest;
    return JSON.stringify(type === undefined ? fields : { type, ...fields });
  });

describe("parseClientFrame looks the schema up by type", () => {
  it("gives every line the verdict the variant of all request schemas gives", () => {
    fc.assert(
      fc.property(frameObject, (line) => {
        expect(verdict(line)).toEqual(variantVerdict(line));
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['{"type":"toString"}', 'unknown type "toString"'],
    ['{"type":"__proto__","text":"x"}', 'unknown type "__proto__"'],
    ['{"type":5,"ref":"r"}', "unknown type 5"],
    ['{"type":null}', "unknown type null"],
    ['{"ref":"r"}', "`type` is missing"],
  ])("refuses %s like the variant did: %s", (line, why) => {
    expect(verdict(line)).toEqual(variantVerdict(line));
    expect(parseClientFrame(line)).toMatchObject({
      code: "CHAT_ERR_BAD_FRAME",
      message: `The line is not a valid frame: ${why}.`,
    });
  });
});
