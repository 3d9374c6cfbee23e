import { readFileSync } from "node:fs";
import { describeFrames, type FrameField } from "@tcpchat/core";
import { describe, expect, it } from "vitest";

const page = readFileSync(new URL("../reference/protocol.md", import.meta.url), "utf8");

/** The rows of the first table under `heading`: first cell (the type) -> second cell. */
function tableRows(heading: string): Map<string, string> {
  const start = page.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const rows = new Map<string, string>();
  let inTable = false;
  for (const line of page.slice(start + heading.length + 2).split("\n")) {
    if (!line.startsWith("|")) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.split("|").map((cell) => cell.trim());
    const type = /^`([a-z]+)`$/.exec(cells[1] ?? "")?.[1];
    if (type !== undefined) rows.set(type, cells[2] ?? "");
  }
  return rows;
}

/** Field names in a cell: backticked words outside parentheses; `name?` is optional. */
function cellFields(cell: string): string[] {
  let outside = cell;
  for (let previous = ""; previous !== outside; ) {
    previous = outside;
    outside = outside.replace(/\([^()]*\)/g, "");
  }
  return [...outside.matchAll(/`([A-Za-z]+\??)`/g)].map((m) => m[1]!).sort();
}

function schemaFields(fields: readonly FrameField[]): string[] {
  return fields.map((f) => (f.optional ? `${f.name}?` : f.name)).sort();
}

function compare(heading: string, frames: ReturnType<typeof describeFrames>["client"]): void {
  const rows = tableRows(heading);
  expect([...rows.keys()].sort(), `${heading}: frame types`).toEqual(
    frames.map((f) => f.type).sort(),
  );
  for (const frame of frames) {
    expect(cellFields(rows.get(frame.type)!), `${heading}: fields of ${frame.type}`).toEqual(
      schemaFields(frame.fields),
    );
  }
}

describe("protocol spec and core's frame schema", () => {
  const frames = describeFrames();

  it("4.1 lists exactly the client frames of the schema, with their fields", () => {
    compare("### 4.1 Client to server", frames.client);
  });

  it("4.2 lists exactly the server frames of the schema, with their fields", () => {
    compare("### 4.2 Server to client", frames.server);
  });

  it("4.2 lists exactly the welcome's limits", () => {
    const sentence = /`limits` in `welcome`:([^.]*)\./.exec(page)?.[1] ?? "";
    expect(cellFields(sentence)).toEqual(schemaFields(frames.limits));
  });
});
