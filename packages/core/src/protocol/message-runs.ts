/**
 * Compact message runs (spec 4.6): a client that says `"compact": true` in its hello gets a
 * run of two or more live messages of one room, said in the same turn, as ONE `messages` frame
 * instead of a `message` frame each. The room and the frame's keys are written once per run
 * and each message is a short array, so a room's batch is about 60% of the bytes: what a
 * WebSocket or JSON member costs the server is mostly the bytes it is written.
 *
 * Browser-safe: the web page expands runs with the same code the server encodes them with.
 */
import * as v from "valibot";
import type { MessageFrame, ServerFrame } from "./frames.js";

/** One message of a run: `[id, from, dt, text]`, dt in ms after the run's `ts`. */
const RUN_ITEM = v.tuple([v.string(), v.string(), v.number(), v.string()]);
/** An action (`/me`): the same with a fifth element, 1. */
const RUN_ACTION_ITEM = v.tuple([v.string(), v.string(), v.number(), v.string(), v.literal(1)]);

/** The `messages` frame: live messages of one room, in order. */
export const MESSAGES_FRAME_SCHEMA = v.object({
  type: v.literal("messages"),
  room: v.string(),
  /** The first message's server time (ms); each item's `dt` is added to it. */
  ts: v.number(),
  // The action form first: a tuple schema drops items past its own, so the shorter one would
  // match an action and lose its flag.
  items: v.array(v.union([RUN_ACTION_ITEM, RUN_ITEM])),
});

/** A run of live messages of one room (spec 4.6). */
export type MessagesFrame = v.InferOutput<typeof MESSAGES_FRAME_SCHEMA>;

/** A message said just now (not from history): the only kind a run holds. */
function isLive(frame: ServerFrame): frame is MessageFrame {
  return frame.type === "message" && frame.history !== true;
}

/** One item of a run, as JSON: `[id, from, dt, text]` or with `,1` for an action. */
function runItem(message: MessageFrame, runTs: number): string {
  const action = message.action === true ? ",1" : "";
  return `[${JSON.stringify(message.id)},${JSON.stringify(message.from)},${message.ts - runTs},${JSON.stringify(message.text)}${action}]`;
}

/**
 * The JSON lines of a batch for a compact client: each run of two or more consecutive live
 * messages of one room becomes one `messages` line; every other frame is its usual line.
 */
export function compactBatchLines(frames: readonly ServerFrame[]): string {
  let text = "";
  let i = 0;
  while (i < frames.length) {
    const first = frames[i]!;
    let end = i + 1;
    if (isLive(first)) {
      while (end < frames.length) {
        const next = frames[end]!;
        if (!isLive(next) || next.room !== first.room) break;
        end++;
      }
    }
    if (end - i < 2) {
      text += `${JSON.stringify(first)}\n`;
      i = end;
      continue;
    }
    const run = first as MessageFrame;
    text += `{"type":"messages","room":${JSON.stringify(run.room)},"ts":${run.ts},"items":[`;
    for (let k = i; k < end; k++) {
      if (k > i) text += ",";
      text += runItem(frames[k] as MessageFrame, run.ts);
    }
    text += "]}\n";
    i = end;
  }
  return text;
}

/** The `message` frames a run stands for, in order. */
export function expandMessages(run: MessagesFrame): MessageFrame[] {
  return run.items.map(([id, from, dt, text, action]) => {
    const message: MessageFrame = {
      type: "message",
      id,
      ts: run.ts + dt,
      room: run.room,
      from,
      text,
    };
    if (action === 1) message.action = true;
    return message;
  });
}
