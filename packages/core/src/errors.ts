/**
 * Every error tcpchat reports carries a stable `code` from this table. Users match on codes,
 * never on messages; the docs' errors page lists the same table (a test keeps them in step).
 */

/** How an error is handled: this decides which subclass of {@link ChatError} carries it. */
export const ERROR_KIND = {
  /** Bytes that do not form a valid line: costs the sender that line. */
  framing: "framing",
  /** A valid line that is not a valid request: costs the sender that request. */
  protocol: "protocol",
  /** The connection itself failed or was closed (client side, or a server-side cut-off). */
  connection: "connection",
  /** The server refused or ended this client on purpose (policy, kick, ban, shutdown). */
  remote: "remote",
  /** The server's data store could not be opened or used (at start, or while running). */
  store: "store",
} as const;
export type ErrorKind = (typeof ERROR_KIND)[keyof typeof ERROR_KIND];

interface CodeInfo {
  readonly kind: ErrorKind;
  /** What happened, in one sentence. */
  readonly message: string;
  /** What to do next. */
  readonly hint: string;
}

/** The code table: code -> kind, default message and hint. */
export const ERROR_CODES = {
  CHAT_ERR_LINE_TOO_LONG: {
    kind: "framing",
    message: "The line is longer than the server's line limit and was discarded.",
    hint: "Split the text into shorter messages; the limit is in bytes of UTF-8 and is announced in the welcome.",
  },
  CHAT_ERR_INVALID_UTF8: {
    kind: "framing",
    message: "The line is not valid UTF-8 and was discarded.",
    hint: "Set your terminal or program to UTF-8 (for Java: new InputStreamReader(in, UTF_8)). From telnet, press Ctrl-] and type `toggle outbinary` (telnet's 7-bit mode loses bytes of UTF-8), or use nc.",
  },
  CHAT_ERR_TELNET_MANGLED_LINE: {
    kind: "framing",
    message:
      "Your telnet turned some bytes of this line into telnet commands (it was in 7-bit mode), so the line was discarded.",
    hint: "Type the line again: the server has now asked telnet for 8-bit input. To avoid it from the start, connect with nc, or press Ctrl-] and type `toggle outbinary` in telnet first.",
  },
  CHAT_ERR_LINE_BREAK_IN_TEXT: {
    kind: "framing",
    message: "Text to send contains a line break, which would end the line early.",
    hint: "Send each line as its own message, or replace line breaks before sending.",
  },
  CHAT_ERR_EMPTY_MESSAGE: {
    kind: "protocol",
    message: "The message is empty.",
    hint: "Type some text; blank lines are ignored in text mode.",
  },
  CHAT_ERR_UNKNOWN_COMMAND: {
    kind: "protocol",
    message: "There is no such command.",
    hint: "Type /help for the list of commands; start a line with // to send a literal slash.",
  },
  CHAT_ERR_BAD_ARGUMENT: {
    kind: "protocol",
    message: "The command is missing an argument or has one too many.",
    hint: "Type /help for each command's usage.",
  },
  CHAT_ERR_BAD_FRAME: {
    kind: "protocol",
    message: "The line is not a valid JSON frame of this protocol.",
    hint: "Send one JSON object per line with a known `type`; see the protocol spec.",
  },
  CHAT_ERR_BAD_SERVER_FRAME: {
    kind: "protocol",
    message:
      "The server sent a line that is not a valid frame of this protocol; the client skipped it.",
    hint: "The server is buggy or not a tcpchat server of a compatible version; report it to its operator.",
  },
  CHAT_ERR_UNSUPPORTED_VERSION: {
    kind: "protocol",
    message: "The client asked for a protocol version this server does not speak.",
    hint: "Upgrade the client or the server; the welcome states the server's version.",
  },
  CHAT_ERR_INVALID_NICK: {
    kind: "protocol",
    message: "The nick is not valid.",
    hint: "Use 1 to 32 characters with no spaces or control characters; any script is fine.",
  },
  CHAT_ERR_NICK_IN_USE: {
    kind: "protocol",
    message: "Someone else already has that nick (nicks are compared case-insensitively).",
    hint: "Pick another nick with /nick.",
  },
  CHAT_ERR_INVALID_ROOM: {
    kind: "protocol",
    message: "The room name is not valid.",
    hint: "Use 1 to 32 characters with no spaces or control characters; a leading # is optional.",
  },
  CHAT_ERR_NOT_IN_ROOM: {
    kind: "protocol",
    message: "You are not in that room.",
    hint: "Join a room first with /join ROOM.",
  },
  CHAT_ERR_TOO_MANY_ROOMS: {
    kind: "protocol",
    message: "You are already in as many rooms as the server allows.",
    hint: "Leave a room with /part before joining another.",
  },
  CHAT_ERR_NO_SUCH_NICK: {
    kind: "protocol",
    message: "Nobody with that nick is connected.",
    hint: "Type /who to see who is in your room.",
  },
  CHAT_ERR_RATE_LIMITED: {
    kind: "protocol",
    message: "You are sending faster than the server's message rate; this message was not sent.",
    hint: "Slow down and send it again; the welcome states the rate and burst.",
  },
  CHAT_ERR_NICK_HELD: {
    kind: "protocol",
    message: "That nick was freed by a dropped connection and is kept for its owner for a while.",
    hint: "Pick another nick, or wait until the hold ends (the message says how long).",
  },
  CHAT_ERR_NICK_RESERVED: {
    kind: "protocol",
    message:
      "Nicks starting with guest- (or looking like it) are the ones the server gives to those who have not picked a nick.",
    hint: "Pick a nick that does not start with guest-.",
  },
  CHAT_ERR_NAME_CONFUSABLE: {
    kind: "protocol",
    message:
      "The name looks like a name already in use (a lookalike letter from another script, a fullwidth form, ...).",
    hint: "Pick a name that reads differently; names are compared by their Unicode TR39 skeleton.",
  },
  CHAT_ERR_TOO_MANY_ERRORS: {
    kind: "protocol",
    message: "More lines were refused than the server reports one by one; this sums them up.",
    hint: "Slow down and fix what the errors before this one say.",
  },
  CHAT_ERR_LINE_TIMEOUT: {
    kind: "connection",
    message: "A line took longer to arrive than the server allows, so it closed the connection.",
    hint: "Send each line whole; a client must finish a line it started within the time limit.",
  },
  CHAT_ERR_EVICTED: {
    kind: "remote",
    message:
      "The server was full and this connection had not sent a line yet, so it made room for a new one.",
    hint: "Reconnect; send a line (even an empty one) soon after connecting to keep your place.",
  },
  CHAT_ERR_SEND_QUEUE_FULL: {
    kind: "connection",
    message:
      "The client stopped reading and its send queue passed the server's limit, so the server disconnected it.",
    hint: "Read from the socket continuously; a client that pauses must not fall behind by more than the send-queue limit.",
  },
  CHAT_ERR_PING_TIMEOUT: {
    kind: "connection",
    message: "The peer did not answer a ping in time.",
    hint: "Answer each ping frame with a pong carrying the same ref.",
  },
  CHAT_ERR_SERVER_SHUTDOWN: {
    kind: "remote",
    message: "The server is shutting down.",
    hint: "Reconnect later.",
  },
  CHAT_ERR_KICKED: {
    kind: "remote",
    message: "An operator disconnected you.",
    hint: "Reconnect if you believe it was a mistake; repeated kicks may become a ban.",
  },
  CHAT_ERR_BANNED: {
    kind: "remote",
    message: "An operator banned your address and disconnected you.",
    hint: "Contact the server's operator.",
  },
  CHAT_ERR_REFUSED_DENIED: {
    kind: "remote",
    message: "Your address is on this server's deny list.",
    hint: "Contact the server's operator if you should have access.",
  },
  CHAT_ERR_REFUSED_NOT_ALLOWED: {
    kind: "remote",
    message: "Your address is not on this server's allow list.",
    hint: "Connect from an allowed network, or ask the operator to allow your address.",
  },
  CHAT_ERR_REFUSED_SERVER_FULL: {
    kind: "remote",
    message: "The server has reached its maximum number of connections.",
    hint: "Retry later.",
  },
  CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS: {
    kind: "remote",
    message: "Your address already has as many connections as the server allows.",
    hint: "Close one of your other connections first.",
  },
  CHAT_ERR_REFUSED_TOO_MANY_FROM_SUBNET: {
    kind: "remote",
    message: "Your network already has as many connections as the server allows.",
    hint: "Close other connections from your network first.",
  },
  CHAT_ERR_REFUSED_RATE_LIMITED: {
    kind: "remote",
    message: "Your address is connecting too often.",
    hint: "Wait before reconnecting; use backoff between retries.",
  },
  CHAT_ERR_REFUSED_BANNED: {
    kind: "remote",
    message: "Your address is banned from this server.",
    hint: "Wait for the ban to expire, or contact the server's operator.",
  },
  CHAT_ERR_REFUSED_CUSTOM: {
    kind: "remote",
    message: "The server's own admission rule refused this connection.",
    hint: "Contact the server's operator.",
  },
  CHAT_ERR_REFUSED_SHUTTING_DOWN: {
    kind: "remote",
    message: "The server is shutting down and accepts no new connections.",
    hint: "Reconnect later.",
  },
  CHAT_ERR_TLS_REQUIRED: {
    kind: "remote",
    message: "This server accepts only TLS connections, and this one is plain text.",
    hint: "Connect with TLS on the same port: `openssl s_client -quiet -connect HOST:PORT` or `ncat --ssl HOST PORT`.",
  },
  CHAT_ERR_TLS_CREDENTIALS: {
    kind: "connection",
    message: "The TLS certificate or key could not be loaded.",
    hint: "Give a PEM certificate chain and the PEM private key that belongs to it (for Let's Encrypt: fullchain.pem and privkey.pem).",
  },
  CHAT_ERR_WORKERS_NEED_REDIS: {
    kind: "connection",
    message:
      "--workers above 1 needs --redis: separate processes share rooms, nicks and presence only through Redis.",
    hint: "Start a Redis (`redis-server`) and add `--redis redis://127.0.0.1:6379`, or run one worker (leave out --workers).",
  },
  CHAT_ERR_REDIS_UNREACHABLE: {
    kind: "connection",
    message: "The server cannot reach the Redis of its cluster, so it did not start.",
    hint: "Check the --redis URL and that redis-server runs there (`redis-cli -u URL ping` answers PONG).",
  },
  CHAT_ERR_CLUSTER_FULL: {
    kind: "connection",
    message:
      "The cluster already has 64 live nodes: every slot for message ids is held, so this node did not start.",
    hint: "Stop a node you do not need, or wait a few seconds for a node that died to lose its slot, then start again.",
  },
  CHAT_ERR_TLS_UNTRUSTED: {
    kind: "connection",
    message:
      "The server's TLS certificate is not trusted: it is self-signed or signed by an unknown authority.",
    hint: "Give the server's certificate (or its CA) with `--ca FILE`, or, to test only, skip the check with `--insecure`.",
  },
  CHAT_ERR_TLS_EXPIRED: {
    kind: "connection",
    message: "The server's TLS certificate has expired (or is not valid yet).",
    hint: "The server's operator must renew the certificate (for Let's Encrypt: `certbot renew`); check this machine's clock too.",
  },
  CHAT_ERR_TLS_WRONG_NAME: {
    kind: "connection",
    message: "The server's TLS certificate does not name the host connected to.",
    hint: "Connect by a name the certificate lists (run `tcpchat doctor HOST:PORT --tls` to see them), or ask the operator for a certificate that names this host.",
  },
  CHAT_ERR_TLS_PLAINTEXT_SERVER: {
    kind: "connection",
    message:
      "The server answered the TLS handshake in plain text: it does not speak TLS on this port.",
    hint: "Drop `--tls` to connect in plain text, or ask the operator to start the server with `--tls-cert` and `--tls-key`.",
  },
  CHAT_ERR_TLS_HANDSHAKE: {
    kind: "connection",
    message: "The TLS handshake failed.",
    hint: "Check that the server speaks TLS on this port (`tcpchat doctor HOST:PORT --tls`) and that both sides share a TLS version.",
  },
  CHAT_ERR_CONN_REFUSED: {
    kind: "connection",
    message: "Connection refused: the host answered, but nothing listens on that port.",
    hint: "Is the server running, and is the port right? Start one with `pnpm --filter cli start -- --port N` (or `tcpchat serve --port N` where tcpchat is installed).",
  },
  CHAT_ERR_CONN_TIMEOUT: {
    kind: "connection",
    message: "Connection timed out: no answer at all, so packets are being dropped on the way.",
    hint: "Most often a firewall on the server or the network: open inbound TCP on the server's port (run `tcpchat doctor HOST:PORT` for the commands).",
  },
  CHAT_ERR_CONN_UNREACHABLE: {
    kind: "connection",
    message: "The host or its network is unreachable: there is no route to it.",
    hint: "Check the address, your network connection, and that both machines are on a network that routes to each other.",
  },
  CHAT_ERR_DNS: {
    kind: "connection",
    message: "The host name could not be resolved to an address.",
    hint: "Check the spelling, or use the server's IP address.",
  },
  CHAT_ERR_CONN_RESET: {
    kind: "connection",
    message: "The connection was reset by the peer.",
    hint: "The server closed abruptly or a middlebox cut the connection; reconnect.",
  },
  CHAT_ERR_CONN_CLOSED: {
    kind: "connection",
    message: "The connection closed.",
    hint: "Reconnect.",
  },
  CHAT_ERR_NOT_CONNECTED: {
    kind: "connection",
    message: "The client is not connected.",
    hint: "Call connect() first, or wait for the reconnect to finish.",
  },
  CHAT_ERR_NOT_TCPCHAT: {
    kind: "protocol",
    message: "The peer does not speak the tcpchat protocol.",
    hint: "Use a plain line client (`tcpchat connect --raw`) for other line-based servers.",
  },
  CHAT_ERR_ACK_TIMEOUT: {
    kind: "connection",
    message: "The server did not acknowledge the request in time.",
    hint: "The connection may be stalled; check it with a ping or reconnect.",
  },
  CHAT_ERR_HISTORY_OFF: {
    kind: "protocol",
    message: "This server keeps no history.",
    hint: "The operator can start it with a data directory (tcpchat serve --data DIR) to keep history.",
  },
  CHAT_ERR_HISTORY_UNAVAILABLE: {
    kind: "protocol",
    message: "The server could not read its history just now.",
    hint: "Try again in a moment; the operator sees why in the server log.",
  },
  CHAT_ERR_DM_HISTORY_ACCOUNTS: {
    kind: "protocol",
    message: "Direct messages are kept only between registered users who are logged in.",
    hint: "Log in with /login NAME PASSWORD (or register with /register PASSWORD); the other nick must be registered too. A guest's DMs are never stored.",
  },
  CHAT_ERR_ACCOUNTS_OFF: {
    kind: "protocol",
    message: "This server keeps no accounts.",
    hint: "The operator can start it with a data directory (tcpchat serve --data DIR) to keep accounts.",
  },
  CHAT_ERR_NICK_REGISTERED: {
    kind: "protocol",
    message: "That nick is registered to an account.",
    hint: "Log in with /login NAME PASSWORD (or a JSON auth frame), or pick another nick.",
  },
  CHAT_ERR_ACCOUNT_EXISTS: {
    kind: "protocol",
    message: "That nick is already registered.",
    hint: "Log in with /login NAME PASSWORD, or take another nick and register that.",
  },
  CHAT_ERR_WEAK_PASSWORD: {
    kind: "protocol",
    message: "The password is too short.",
    hint: "Use at least 8 characters; a few words are easier to remember than symbols.",
  },
  CHAT_ERR_LOGIN_FAILED: {
    kind: "protocol",
    message: "Wrong account name or password.",
    hint: "Check both; names are not case-sensitive, passwords are.",
  },
  CHAT_ERR_LOGIN_THROTTLED: {
    kind: "protocol",
    message: "Too many failed logins; wait before trying again.",
    hint: "The message says how long. Failed logins are limited per address and per account.",
  },
  CHAT_ERR_REGISTER_THROTTLED: {
    kind: "protocol",
    message: "Too many registrations from your address; wait before registering another nick.",
    hint: "The message says how long. Each address may register a few nicks, then one at a time with growing waits.",
  },
  CHAT_ERR_READ_THROTTLED: {
    kind: "protocol",
    message:
      "You asked for history or a search faster than your request budget allows; this one was not answered.",
    hint: "Wait a moment between searches and history pages: each costs in proportion to the work it takes.",
  },
  CHAT_ERR_SERVER_BUSY: {
    kind: "protocol",
    message:
      "The server is busy with costly requests of this kind just now; this one was not done.",
    hint: "Retry in a second or two; the message says when, if it knows.",
  },
  CHAT_ERR_NOT_PERMITTED: {
    kind: "protocol",
    message: "Only operator accounts may do that.",
    hint: "Log in to an operator account (/login NAME PASSWORD); the server's operator makes one with `tcpchat account op NAME`.",
  },
  CHAT_ERR_BANS_OFF: {
    kind: "protocol",
    message: "This server has no ban list that clients can change.",
    hint: "The server's owner gives it an accept policy (tcpchat serve always has one); until then, ban from the server's console.",
  },
  CHAT_ERR_NOT_BANNED: {
    kind: "protocol",
    message: "No ban has that target.",
    hint: "Name the address or block exactly as it was banned (the console's /bans lists them).",
  },
  CHAT_ERR_OPERATORS_FILE: {
    kind: "protocol",
    message: "The operators file cannot be read or has a line that is not an account name.",
    hint: "Write one account name per line (# starts a comment); names follow the nick rules.",
  },
  CHAT_ERR_STORE_OPEN: {
    kind: "store",
    message: "The data directory or database file cannot be opened.",
    hint: "Check that the directory exists or can be created and is writable by this user, or run with --data :memory: to keep nothing.",
  },
  CHAT_ERR_STORE_CORRUPT: {
    kind: "store",
    message: "The database file is damaged or is not a tcpchat database.",
    hint: "Move the file aside (keep it for recovery with the sqlite3 tool's .recover) and start again, or point --data at another directory.",
  },
  CHAT_ERR_STORE_LOCKED: {
    kind: "store",
    message: "Another process is using this data directory.",
    hint: "Stop the other tcpchat server on this directory, or give this one its own --data DIR.",
  },
  CHAT_ERR_STORE_TOO_NEW: {
    kind: "store",
    message: "The database was written by a newer tcpchat.",
    hint: "Run that newer tcpchat, or point --data at another directory.",
  },
} as const satisfies Record<string, CodeInfo>;

/** A stable error code, such as `CHAT_ERR_LINE_TOO_LONG`. */
export type ChatErrorCode = keyof typeof ERROR_CODES;

/** Whether a string is a known error code. */
export function isChatErrorCode(code: string): code is ChatErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** Options of {@link ChatError}. */
export interface ChatErrorOptions {
  /** Replaces the table's message with a more specific one. */
  message?: string;
  /** Replaces the table's hint. */
  hint?: string;
  /** The underlying error (a system error, say). */
  cause?: unknown;
}

/** The base of every tcpchat error: a stable `code`, a message that says what happened and a hint. */
export class ChatError extends Error {
  readonly code: ChatErrorCode;
  readonly kind: ErrorKind;
  readonly hint: string;

  constructor(code: ChatErrorCode, options: ChatErrorOptions = {}) {
    const info: CodeInfo = ERROR_CODES[code];
    // A framing or protocol error is an answer to a peer's line, made on the per-line path: a
    // flood of bad lines must not cost a stack trace each (several µs), and the stack of an
    // answer says nothing. Connection and remote errors keep theirs.
    const traceLimit = Error.stackTraceLimit;
    if (info.kind === "framing" || info.kind === "protocol") Error.stackTraceLimit = 0;
    try {
      super(options.message ?? info.message, { cause: options.cause });
    } finally {
      Error.stackTraceLimit = traceLimit;
    }
    this.name = new.target.name;
    this.code = code;
    this.kind = info.kind;
    this.hint = options.hint ?? info.hint;
  }
}

/** Bytes that did not form a valid line. */
export class FramingError extends ChatError {}
/** A line that is not a valid request. */
export class ProtocolError extends ChatError {}
/** The connection failed or closed. `syscallCode` is the OS error (ECONNREFUSED, ...), if any. */
export class ConnectionError extends ChatError {
  readonly syscallCode: string | undefined;
  constructor(code: ChatErrorCode, options: ChatErrorOptions & { syscallCode?: string } = {}) {
    super(code, options);
    this.syscallCode = options.syscallCode;
  }
}
/** The server refused or ended this client on purpose. `retryAfterMs` is set when it said when. */
export class RemoteError extends ChatError {
  readonly retryAfterMs: number | undefined;
  constructor(code: ChatErrorCode, options: ChatErrorOptions & { retryAfterMs?: number } = {}) {
    super(code, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The data store failed: at start (a clear error, never a crash mid-chat) or on a write. */
export class StoreError extends ChatError {}

/** Builds the subclass that matches the code's kind. */
export function chatError(code: ChatErrorCode, options: ChatErrorOptions = {}): ChatError {
  switch (ERROR_CODES[code].kind) {
    case "framing":
      return new FramingError(code, options);
    case "protocol":
      return new ProtocolError(code, options);
    case "connection":
      return new ConnectionError(code, options);
    case "store":
      return new StoreError(code, options);
    default:
      return new RemoteError(code, options);
  }
}
