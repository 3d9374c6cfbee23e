/**
 * The telnet side of a text-mode connection (protocol spec section 8): a streaming filter that
 * takes telnet's commands out of the byte stream and answers the negotiations a line-mode telnet
 * waits on. Pure and synchronous, like the line decoder: no sockets, no timers.
 *
 * Why it exists: Debian's telnet (inetutils) is in 7-bit NVT mode unless the server asks for
 * TRANSMIT-BINARY. It then compares every typed byte with its high bit cleared against its
 * control characters, so UTF-8 continuation bytes of Hangul turn into commands: 0x9a (^Z) into
 * IAC SUSP, 0x9c (^\) into IAC BRK, 0x83 (^C) into IAC IP, each followed by IAC DO TIMING-MARK.
 * telnet then throws away everything it receives until the TIMING-MARK is answered (RFC 860),
 * so a server that ignores it leaves the user deaf.
 */

import { DEFAULT_MAX_TELNET_SUBNEGOTIATION_BYTES } from "../defaults.js";

/** Telnet command bytes (RFC 854), as const. */
export const TELNET_COMMAND = {
  /** End of subnegotiation. */
  SE: 240,
  NOP: 241,
  /** Data mark (the data part of a SYNCH). */
  DM: 242,
  /** Break. */
  BRK: 243,
  /** Interrupt process. */
  IP: 244,
  /** Abort output. */
  AO: 245,
  /** Are you there. */
  AYT: 246,
  /** Erase character. */
  EC: 247,
  /** Erase line. */
  EL: 248,
  /** Go ahead. */
  GA: 249,
  /** Start of subnegotiation. */
  SB: 250,
  WILL: 251,
  WONT: 252,
  DO: 253,
  DONT: 254,
  /** Interpret as command: starts every command; IAC IAC is a data byte 0xFF. */
  IAC: 255,
  /** Linemode commands (RFC 1184 section 5): end of file, suspend, abort. */
  EOF: 236,
  SUSP: 237,
  ABORT: 238,
} as const;

/** Telnet options this filter knows by name. */
export const TELNET_OPTION = {
  /** RFC 856: 8-bit data, no NVT translation, in one direction. */
  TRANSMIT_BINARY: 0,
  /** RFC 857: the side that WILLs it echoes what the other side types. */
  ECHO: 1,
  /** RFC 860: "answer once you have processed everything before this". */
  TIMING_MARK: 6,
} as const;

const { IAC, SB, SE, WILL, WONT, DO, DONT } = TELNET_COMMAND;

/**
 * Commands a telnet client sends in place of a key the user typed (interrupt, quit, suspend,
 * ...). In 7-bit mode these are often a UTF-8 byte that looked like a control key, so the
 * line they sit in has lost bytes.
 */
const TYPED_COMMANDS: ReadonlySet<number> = new Set([
  TELNET_COMMAND.BRK,
  TELNET_COMMAND.IP,
  TELNET_COMMAND.AO,
  TELNET_COMMAND.AYT,
  TELNET_COMMAND.EC,
  TELNET_COMMAND.EL,
  TELNET_COMMAND.EOF,
  TELNET_COMMAND.SUSP,
  TELNET_COMMAND.ABORT,
]);

/** Something the filter noticed; offsets count bytes of the `data` of the same push. */
export type TelnetEvent =
  /** The first command from the peer: it is a telnet client. */
  | { type: "saw-telnet" }
  /** A command that stands for something typed (see TYPED_COMMANDS) sat at `offset` of data. */
  | { type: "lost-bytes"; offset: number; command: number }
  /** The peer now sends 8-bit data (TRANSMIT-BINARY on), or stopped doing so. */
  | { type: "binary-input"; enabled: boolean }
  /** A subnegotiation passed the byte limit without IAC SE; the bytes after it are data again. */
  | { type: "subnegotiation-overflow"; option: number };

/** What one push produced. */
export interface TelnetOutput {
  /** The peer's data with every command removed (IAC IAC becomes one 0xFF). */
  data: Buffer;
  /** Negotiation answers to write back to the peer (empty most of the time). */
  replies: Buffer;
  events: TelnetEvent[];
}

/** Options of {@link TelnetFilter}. */
export interface TelnetFilterOptions {
  /** Longest subnegotiation (IAC SB ... IAC SE) skipped, in bytes. Default 512. */
  maxSubnegotiationBytes?: number;
  /**
   * As soon as the peer shows it is telnet: ask it for 8-bit input (IAC DO TRANSMIT-BINARY) and
   * reset its local echo (IAC WILL ECHO, IAC WONT ECHO). Default true.
   */
  requestBinaryInput?: boolean;
}

/** Parser states (as const, not an enum). */
const STATE = {
  data: 0,
  /** After IAC. */
  command: 1,
  /** After IAC WILL/WONT/DO/DONT: the next byte is the option. */
  option: 2,
  /** After IAC SB: the next byte is the option. */
  subOption: 3,
  /** Inside a subnegotiation. */
  sub: 4,
  /** IAC inside a subnegotiation. */
  subCommand: 5,
} as const;
type State = (typeof STATE)[keyof typeof STATE];

/** One side of an option (RFC 1143 "us"/"him" states, without the queue bit). */
const Q = { no: 0, yes: 1, wantYes: 2, wantNo: 3 } as const;

const EMPTY = Buffer.alloc(0);
/** Runs of data shorter than this are copied byte by byte rather than with Buffer#copy. */
const SHORT_RUN = 64;

/**
 * Streaming telnet filter for one connection (RFC 854, 856, 860, 1143).
 *
 * - Data comes out without commands; IAC IAC becomes the data byte 0xFF.
 * - IAC DO TIMING-MARK is answered IAC WILL TIMING-MARK every time (RFC 860 section 3): that is
 *   what telnet waits for before it shows output again.
 * - Every option is refused (DO x -> WONT x, WILL x -> DONT x), except that the peer may (and is
 *   asked to) turn on TRANSMIT-BINARY for its input. A WONT/DONT that changes nothing is never
 *   answered, so two peers cannot loop (RFC 854 "Guidelines", RFC 1143 Q method).
 *
 * Why the echo reset: in 7-bit mode telnet also takes 0x85 (^E with the high bit cleared, found
 * in Hangul such as 녕, 테, 입) as its "toggle local echo" key and drops it. After typing
 * "안녕하세요 한국어 테스트 입니다" (three of them, and a SUSP and a BRK) telnet no longer echoed
 * what the user typed, and the server's LF no longer returned the carriage (each line started
 * where the last ended). A WILL ECHO followed at once by WONT ECHO is the password-prompt dance
 * every telnet knows: telnet re-reads its modes (its clock of negotiated modes passes the echo
 * toggle's) and forgets the toggle.
 * Both are sent back to back, before any text, so no output falls in between; the peer's DO and
 * DONT that answer them end the exchange (RFC 1143: WANTNO, then a DO or a DONT, means NO).
 *
 * Why TRANSMIT-BINARY and not LINEMODE or character mode: tried against Debian's telnet typing
 * Hangul, only binary input kept every byte. With LINEMODE (RFC 1184) and every trap character
 * set to SLC_NOSUPPORT, telnet still matched 0x9d (its escape key ^] with the high bit cleared)
 * and dropped into its own command prompt; character mode (WILL ECHO, WILL SGA) did the same
 * and would need the server to echo and edit lines. In binary mode telnet compares the full
 * byte, so UTF-8 never matches a control key, and line editing stays local. Server output is
 * not switched to binary (DO TRANSMIT-BINARY from the peer is refused): telnet's NVT output
 * mode is what turns the server's bare LF into a new line without a staircase.
 *
 * Every byte is looked at once: runs of data are found with indexOf and copied whole, so a
 * stream arriving a byte at a time costs O(n). Subnegotiations are skipped, never buffered.
 */
export class TelnetFilter {
  readonly maxSubnegotiationBytes: number;
  private readonly requestBinaryInput: boolean;
  private state: State = STATE.data;
  /** WILL/WONT/DO/DONT waiting for its option byte. */
  private verb = 0;
  private subOption = 0;
  private subBytes = 0;
  private sawTelnet = false;
  /** The peer's side of TRANSMIT-BINARY. */
  private binaryInput: number = Q.no;
  /** Our side of ECHO: only ever on its way back to "no" after the echo reset. */
  private localEcho: number = Q.no;

  constructor(options: TelnetFilterOptions = {}) {
    this.maxSubnegotiationBytes =
      options.maxSubnegotiationBytes ?? DEFAULT_MAX_TELNET_SUBNEGOTIATION_BYTES;
    if (!Number.isInteger(this.maxSubnegotiationBytes) || this.maxSubnegotiationBytes < 0) {
      throw new RangeError(
        `maxSubnegotiationBytes must be a non-negative integer, got ${this.maxSubnegotiationBytes}`,
      );
    }
    this.requestBinaryInput = options.requestBinaryInput ?? true;
  }

  /** Whether the peer has agreed to send 8-bit data (TRANSMIT-BINARY). */
  get binary(): boolean {
    return this.binaryInput === Q.yes;
  }

  /** Whether the peer has sent any telnet command yet. */
  get telnet(): boolean {
    return this.sawTelnet;
  }

  /** Feeds a chunk from the peer. Never throws. */
  push(chunk: Uint8Array): TelnetOutput {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.state === STATE.data && bytes.indexOf(IAC) === -1) {
      return { data: bytes, replies: EMPTY, events: [] };
    }
    const data = Buffer.allocUnsafe(bytes.length);
    let length = 0;
    const replies: number[] = [];
    const events: TelnetEvent[] = [];
    let i = 0;
    while (i < bytes.length) {
      switch (this.state) {
        case STATE.data: {
          const iac = bytes.indexOf(IAC, i);
          const end = iac === -1 ? bytes.length : iac;
          if (end - i < SHORT_RUN) {
            // Between commands the runs are short; a native copy per run costs more than this.
            for (let k = i; k < end; k++) data[length++] = bytes[k]!;
          } else {
            length += bytes.copy(data, length, i, end);
          }
          if (iac === -1) {
            i = bytes.length;
          } else {
            this.state = STATE.command;
            i = iac + 1;
          }
          break;
        }
        case STATE.command: {
          const command = bytes[i++]!;
          this.noticeTelnet(replies, events);
          this.state = STATE.data;
          if (command === IAC) data[length++] = IAC;
          else if (command >= WILL) {
            this.verb = command;
            this.state = STATE.option;
          } else if (command === SB) this.state = STATE.subOption;
          else if (TYPED_COMMANDS.has(command)) {
            events.push({ type: "lost-bytes", offset: length, command });
          }
          // NOP, DM, GA, a stray SE and unassigned codes carry nothing for a line client.
          break;
        }
        case STATE.option:
          this.negotiate(this.verb, bytes[i++]!, replies, events);
          this.state = STATE.data;
          break;
        case STATE.subOption:
          this.subOption = bytes[i++]!;
          this.subBytes = 0;
          this.state = STATE.sub;
          break;
        case STATE.sub: {
          const iac = bytes.indexOf(IAC, i);
          const end = iac === -1 ? bytes.length : iac;
          const room = this.maxSubnegotiationBytes - this.subBytes;
          if (end - i > room) {
            // Without an end in sight, a lost IAC SE would swallow the rest of the session.
            events.push({ type: "subnegotiation-overflow", option: this.subOption });
            i += room;
            this.state = STATE.data;
            break;
          }
          this.subBytes += end - i;
          i = end;
          if (iac !== -1) {
            this.state = STATE.subCommand;
            i += 1;
          }
          break;
        }
        case STATE.subCommand: {
          const command = bytes[i++]!;
          if (command === SE) this.state = STATE.data;
          else if (command === IAC) {
            // An escaped 0xFF inside the subnegotiation: it counts against the limit.
            this.subBytes += 1;
            this.state = STATE.sub;
            if (this.subBytes > this.maxSubnegotiationBytes) {
              events.push({ type: "subnegotiation-overflow", option: this.subOption });
              this.state = STATE.data;
            }
          } else {
            // IAC and something else: the SE was lost. Close the subnegotiation and read the
            // command, as BSD telnet does, rather than loop waiting for an SE.
            this.state = STATE.command;
            i -= 1;
          }
          break;
        }
      }
    }
    return {
      data: data.subarray(0, length),
      replies: replies.length === 0 ? EMPTY : Buffer.from(replies),
      events,
    };
  }

  private noticeTelnet(replies: number[], events: TelnetEvent[]): void {
    if (this.sawTelnet) return;
    this.sawTelnet = true;
    events.push({ type: "saw-telnet" });
    if (!this.requestBinaryInput) return;
    if (this.binaryInput === Q.no) {
      this.binaryInput = Q.wantYes;
      replies.push(IAC, DO, TELNET_OPTION.TRANSMIT_BINARY);
    }
    if (this.localEcho === Q.no) {
      this.localEcho = Q.wantNo;
      replies.push(IAC, WILL, TELNET_OPTION.ECHO, IAC, WONT, TELNET_OPTION.ECHO);
    }
  }

  /** RFC 1143 section 7, without the queue bit (we never change our mind mid-negotiation). */
  private negotiate(verb: number, option: number, replies: number[], events: TelnetEvent[]): void {
    switch (verb) {
      case DO:
        // RFC 860: TIMING-MARK is answered every time, and no state is kept for it.
        if (option === TELNET_OPTION.TIMING_MARK) replies.push(IAC, WILL, option);
        else if (option === TELNET_OPTION.ECHO && this.localEcho === Q.wantNo) {
          // The answer to the WILL ECHO of the echo reset; our WONT ECHO is already on its way.
          this.localEcho = Q.no;
        }
        // Our side of every other option is off and stays off.
        else replies.push(IAC, WONT, option);
        return;
      case DONT:
        // Our side is off, or on its way to off: a DONT changes nothing and is not answered.
        if (option === TELNET_OPTION.ECHO) this.localEcho = Q.no;
        return;
      case WILL:
        if (option !== TELNET_OPTION.TRANSMIT_BINARY) {
          replies.push(IAC, DONT, option);
          return;
        }
        if (this.binaryInput === Q.no) {
          this.binaryInput = Q.yes;
          replies.push(IAC, DO, option);
          events.push({ type: "binary-input", enabled: true });
        } else if (this.binaryInput === Q.wantYes) {
          this.binaryInput = Q.yes;
          events.push({ type: "binary-input", enabled: true });
        } else if (this.binaryInput === Q.wantNo) {
          // A WILL answering our DONT is a protocol error (RFC 1143); take it as "no".
          this.binaryInput = Q.no;
        }
        return;
      case WONT:
        if (option !== TELNET_OPTION.TRANSMIT_BINARY) return;
        if (this.binaryInput === Q.yes) {
          this.binaryInput = Q.no;
          replies.push(IAC, DONT, option);
          events.push({ type: "binary-input", enabled: false });
        } else if (this.binaryInput !== Q.no) {
          this.binaryInput = Q.no;
        }
        return;
    }
  }
}
