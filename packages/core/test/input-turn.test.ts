import { until } from "@tcpchat/testing/redis-server";
import { describe, expect, it } from "vitest";
import { LineClient, startServer } from "./helpers.js";
import { JsonWebSocket } from "./ws-peers.js";

/**
 * A flood of frames from a JSON-line client and a WebSocket client at once, against a server
 * whose per-connection budgets are generous enough that only the turn's input time bounds how
 * much of the flood one event-loop turn handles. Without that bound, each turn handled every
 * frame each socket read held (a 64 KiB read is about 1,000 frames) and the chat waited for it.
 */

/** Frames each flooder sends, all at once: far more than one turn may handle. */
const FLOOD_FRAMES = 30_000;
/**
 * The most an honest chatter's line may take to reach the room while the flood lasts, in ms,
 * for all but a tenth of its lines: on a busy machine the scheduler alone can hold the server
 * for 100-300 ms now and then, whatever the server does. With the turn's bound the chatter was
 * heard about 50 times during the flood, in 11-47 ms each; without it 3 to 6 times, the first
 * lines waiting 330-940 ms.
 */
const MAX_HONEST_DELAY_MS = 250;
/** Frames per WebSocket message: one message must stay within the 16 KiB line limit. */
const FRAMES_PER_WS_MESSAGE = 150;

const floodFrame = (who: string, i: number) =>
  JSON.stringify({ type: "send", ref: `${who}${i}`, room: "#flood", text: `flood ${i}` });

/** The refs of the acks in `frames`, in the order they came. */
function ackRefs(frames: Array<Record<string, unknown>>): string[] {
  return frames.filter((f) => f.type === "ack").map((f) => String(f.ref));
}

const expectedRefs = (who: string) => Array.from({ length: FLOOD_FRAMES }, (_, i) => `${who}${i}`);

describe("input is bounded per event-loop turn, all connections together", () => {
  it("a JSON-line and a WebSocket flood do not hold up a chatter, and every flood frame is answered in order", async () => {
    await using s = await startServer({
      webSocket: true,
      // Only the turn bounds the flood here: its frames are all within the per-connection budgets.
      requestRate: 1_000_000,
      requestBurst: 1_000_000,
      messageRate: 1_000_000,
      messageBurst: 1_000_000,
      sendQueueBytes: 64 * 1024 * 1024,
    });
    const talker = await LineClient.welcomed(s.port, "talker");
    const listener = await LineClient.welcomed(s.port, "listener");

    const jsonFlooder = await LineClient.welcomed(s.port, "jflood", "#flood");
    const wsFlooder = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await wsFlooder.opened;
    wsFlooder.send({ type: "hello", proto: 1, nick: "wflood", room: "#flood" });
    await wsFlooder.waitFor((f) => f.type === "welcome");

    const jsonFlood: string[] = [];
    for (let i = 0; i < FLOOD_FRAMES; i++) jsonFlood.push(floodFrame("j", i));
    const wsMessages: string[] = [];
    for (let i = 0; i < FLOOD_FRAMES; i += FRAMES_PER_WS_MESSAGE) {
      let message = "";
      for (let k = i; k < Math.min(FLOOD_FRAMES, i + FRAMES_PER_WS_MESSAGE); k++) {
        message += `${floodFrame("w", k)}\n`;
      }
      wsMessages.push(message);
    }
    jsonFlooder.socket.write(`${jsonFlood.join("\n")}\n`);
    for (const message of wsMessages) wsFlooder.ws.send(message);

    const jsonAcks = () => jsonFlooder.lines.filter((l) => l.includes('"type":"ack"')).length;
    const wsAcks = () => ackRefs(wsFlooder.frames).length;
    const floodDone = () => jsonAcks() >= FLOOD_FRAMES && wsAcks() >= FLOOD_FRAMES;

    // The chatter says a line, waits until the room has it, and says the next, while the
    // flood is being served.
    const delays: number[] = [];
    for (let n = 0; !floodDone() || n < 3; n++) {
      const sentAt = performance.now();
      const from = listener.lines.length;
      talker.send(JSON.stringify({ type: "send", text: `line ${n}` }));
      await listener.waitFor(new RegExp(`"text":"line ${n}"`), 10_000, from);
      delays.push(performance.now() - sentAt);
      if (n > 10_000) throw new Error("the flood was never served");
    }
    await until(floodDone, "every flood frame's ack", 30_000);

    // The flood took many turns: the chatter was heard many times meanwhile, nearly always soon.
    expect(delays.length).toBeGreaterThan(10);
    const late = delays.filter((delay) => delay >= MAX_HONEST_DELAY_MS);
    expect(late.length, `late lines: ${late.map(Math.round).join(", ")} ms`).toBeLessThanOrEqual(
      Math.floor(delays.length / 10),
    );
    // Nothing of the flood was lost or reordered: each frame answered, in the order sent.
    const jsonRefs = jsonFlooder.lines
      .filter((l) => l.includes('"type":"ack"'))
      .map((l) => String((JSON.parse(l) as { ref: string }).ref));
    expect(jsonRefs).toEqual(expectedRefs("j"));
    expect(ackRefs(wsFlooder.frames)).toEqual(expectedRefs("w"));
    // Each flooder heard the other's messages in #flood in the order they were sent.
    const heardFrom = (lines: Array<Record<string, unknown>>, from: string) =>
      lines.filter((f) => f.type === "message" && f.from === from).map((f) => String(f.text));
    const floodTexts = Array.from({ length: FLOOD_FRAMES }, (_, i) => `flood ${i}`);
    expect(heardFrom(wsFlooder.frames, "jflood")).toEqual(floodTexts);
    const jsonHeard = jsonFlooder.lines
      .filter((l) => l.includes('"type":"message"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(heardFrom(jsonHeard, "wflood")).toEqual(floodTexts);
    jsonFlooder.close();
    wsFlooder.close();
    talker.close();
    listener.close();
  }, 60_000);
});
