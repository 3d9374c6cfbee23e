import type { ChatError } from "../errors.js";
import type { Session } from "./session.js";
import type { HubStats } from "./stats.js";
import { refill } from "./token-bucket.js";

/** The error-reply budget's settings. */
export interface ErrorReplySettings {
  errorReplyRate: number;
  errorReplyBurst: number;
}

/**
 * Error replies under a budget (spec 6.2): a session gets at most `errorReplyBurst` error
 * lines at once and `errorReplyRate` per second after that. The errors past the budget are
 * counted, not sent, and summed up in one `CHAT_ERR_TOO_MANY_ERRORS` line as soon as the budget
 * allows, so a peer that sends a million bad lines costs the server a few lines of replies.
 */
export class ErrorReplies {
  private readonly withSuppressed = new Set<Session>();

  constructor(
    private readonly settings: ErrorReplySettings,
    private readonly stats: HubStats,
  ) {}

  /** Sends an error to a session, or counts it when the budget is spent. */
  reply(session: Session, error: ChatError, ref: string | undefined, now: number): void {
    if (!this.take(session, now)) {
      if (session.suppressedErrors === 0) {
        session.suppressedSince = now;
        session.suppressedCode = error.code;
        this.withSuppressed.add(session);
      }
      session.suppressedErrors += 1;
      this.stats.errorsSuppressed += 1;
      return;
    }
    if (session.suppressedErrors > 0) this.summarize(session, now);
    session.sendFrame({
      type: "error",
      code: error.code,
      message: error.message,
      hint: error.hint,
      ...(ref === undefined ? {} : { ref }),
    });
  }

  /** Sends the summaries the budget allows now (called about once a second). */
  sweep(now: number): void {
    for (const session of this.withSuppressed) {
      if (this.take(session, now)) this.summarize(session, now);
    }
  }

  forget(session: Session): void {
    this.withSuppressed.delete(session);
  }

  private take(session: Session, now: number): boolean {
    const tokens = refill(
      session.errorTokens,
      session.errorTokensAt,
      now,
      this.settings.errorReplyRate,
      this.settings.errorReplyBurst,
    );
    session.errorTokensAt = now;
    if (tokens < 1) {
      session.errorTokens = tokens;
      return false;
    }
    session.errorTokens = tokens - 1;
    return true;
  }

  private summarize(session: Session, now: number): void {
    const count = session.suppressedErrors;
    const seconds = Math.max(0.1, (now - session.suppressedSince) / 1000);
    session.suppressedErrors = 0;
    this.withSuppressed.delete(session);
    session.sendFrame({
      type: "error",
      code: "CHAT_ERR_TOO_MANY_ERRORS",
      message: `${count.toLocaleString("en-US")} more ${count === 1 ? "line was" : "lines were"} refused in the last ${seconds.toFixed(1)} s (first: ${session.suppressedCode}); their errors were not sent one by one.`,
      hint: "Slow down and fix what the errors before this one say; each refused line still cost its sender that line.",
    });
  }
}
