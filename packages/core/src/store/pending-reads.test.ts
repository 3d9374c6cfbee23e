import { describe, expect, it } from "vitest";
import { withPending } from "./pending-reads.js";
import { openSqliteStore } from "./sqlite-store.js";
import type { HistoryQuery, StoredMessage } from "./types.js";

function message(id: number, roomKey: string): StoredMessage {
  // Timestamps repeat (several messages per ms), as they do in a busy room.
  return {
    id,
    ts: 1000 + Math.floor(id / 3),
    room: roomKey,
    roomKey,
    from: "a",
    text: `m${id}`,
    action: false,
  };
}

describe("withPending", () => {
  it("answers every query as the store would with every message committed", () => {
    const all = Array.from({ length: 40 }, (_, i) => message(i + 1, i % 4 === 0 ? "dev" : "lobby"));
    const full = openSqliteStore(":memory:");
    full.appendMessages(all);
    const queries: HistoryQuery[] = [];
    for (const limit of [0, 1, 2, 5, 7, 50]) {
      queries.push({ kind: "latest", roomKey: "lobby", limit });
      for (const kind of ["before", "after", "around"] as const) {
        for (const at of [1, 9, 20, 31, 33, 40, 41]) {
          queries.push({ kind, roomKey: "lobby", limit, anchor: { id: at } });
          queries.push({
            kind,
            roomKey: "lobby",
            limit,
            anchor: { ts: 1000 + Math.floor(at / 3) },
          });
        }
      }
    }
    // Committed up to `cut`; pending from `acked` on (the batch between is in both: its commit
    // is done but not yet acknowledged).
    for (const [acked, cut] of [
      [41, 40],
      [30, 30],
      [25, 32],
      [1, 0],
      [1, 12],
    ] as const) {
      const partial = openSqliteStore(":memory:");
      partial.appendMessages(all.slice(0, cut));
      const pending = all.slice(acked - 1).filter((m) => m.roomKey === "lobby");
      for (const query of queries) {
        const merged = withPending(query, partial.queryMessages(query), pending);
        expect(
          merged.map((m) => m.id),
          JSON.stringify({ query, acked, cut }),
        ).toEqual(full.queryMessages(query).map((m) => m.id));
      }
      partial.close();
    }
    full.close();
  });
});
