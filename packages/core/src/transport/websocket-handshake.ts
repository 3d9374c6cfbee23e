import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The GUID of RFC 6455 section 1.3 that turns a client's key into the server's accept value. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** A Sec-WebSocket-Key: 16 random bytes in base64 (section 4.1). */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;
/** A subprotocol name: an HTTP token (RFC 7230 section 3.2.6). */
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What to answer an upgrade request: the 101 response, or a refusal. */
export type HandshakeAnswer =
  | { accepted: true; response: string }
  | { accepted: false; response: string };

/**
 * Checks a WebSocket upgrade request (RFC 6455 section 4.2.1) and builds the answer: the same
 * checks `ws`'s `handleUpgrade` makes (GET, `Upgrade: websocket`, a well-formed key, version 13
 * or 8), no extension (permessage-deflate stays off: frames are pre-encoded and shared), and
 * the first subprotocol offered, if any, as `ws` picks by default. The Origin is checked before.
 */
export function answerUpgrade(request: IncomingMessage): HandshakeAnswer {
  if (request.method !== "GET") return refusal("405 Method Not Allowed", "Allow: GET\r\n");
  if (request.headers.upgrade?.toLowerCase() !== "websocket") {
    return refusal("400 Bad Request");
  }
  const key = request.headers["sec-websocket-key"];
  if (key === undefined || !KEY_PATTERN.test(key)) return refusal("400 Bad Request");
  const version = request.headers["sec-websocket-version"];
  if (version !== "13" && version !== "8") {
    // Section 4.4: name the version this server speaks.
    return refusal("426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n");
  }
  const accept = createHash("sha1")
    .update(key + WEBSOCKET_GUID)
    .digest("base64");
  let protocolLine = "";
  const offered = request.headers["sec-websocket-protocol"];
  if (offered !== undefined) {
    const first = offered.split(",")[0]!.trim();
    if (!TOKEN_PATTERN.test(first)) return refusal("400 Bad Request");
    protocolLine = `Sec-WebSocket-Protocol: ${first}\r\n`;
  }
  return {
    accepted: true,
    response:
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n${protocolLine}\r\n`,
  };
}

function refusal(status: string, extraHeaders = ""): HandshakeAnswer {
  return {
    accepted: false,
    response: `HTTP/1.1 ${status}\r\nConnection: close\r\n${extraHeaders}Content-Length: 0\r\n\r\n`,
  };
}
