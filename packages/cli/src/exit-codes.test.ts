import { ConnectionError, chatError } from "@tcpchat/core";
import { describe, expect, it } from "vitest";
import { EXIT_CODE, exitCodeForError } from "./exit-codes.js";

describe("exitCodeForError", () => {
  it("gives every failure class its own code", () => {
    expect(exitCodeForError(chatError("CHAT_ERR_CONN_REFUSED"))).toBe(EXIT_CODE.connRefused);
    expect(exitCodeForError(chatError("CHAT_ERR_CONN_TIMEOUT"))).toBe(EXIT_CODE.connTimeout);
    expect(exitCodeForError(chatError("CHAT_ERR_REFUSED_DENIED"))).toBe(EXIT_CODE.refusedByPolicy);
    expect(exitCodeForError(chatError("CHAT_ERR_REFUSED_SERVER_FULL"))).toBe(
      EXIT_CODE.refusedByPolicy,
    );
    expect(exitCodeForError(chatError("CHAT_ERR_CONN_UNREACHABLE"))).toBe(EXIT_CODE.unreachable);
    expect(exitCodeForError(chatError("CHAT_ERR_CONN_RESET"))).toBe(EXIT_CODE.connectionLost);
    expect(exitCodeForError(chatError("CHAT_ERR_KICKED"))).toBe(EXIT_CODE.endedByServer);
    expect(exitCodeForError(chatError("CHAT_ERR_SERVER_SHUTDOWN"))).toBe(EXIT_CODE.endedByServer);
  });

  it("treats a name that does not exist as a usage error, a silent DNS server as a DNS failure", () => {
    expect(
      exitCodeForError(new ConnectionError("CHAT_ERR_DNS", { syscallCode: "ENOTFOUND" })),
    ).toBe(EXIT_CODE.usage);
    expect(
      exitCodeForError(new ConnectionError("CHAT_ERR_DNS", { syscallCode: "EAI_AGAIN" })),
    ).toBe(EXIT_CODE.dns);
  });

  it("uses distinct numbers", () => {
    const values = Object.values(EXIT_CODE);
    expect(new Set(values).size).toBe(values.length);
  });
});
