import { type ClientFrame, normalizeName, PROTOCOL_VERSION } from "@tcpchat/core/protocol";
import { ChatState, dmKey } from "./chat-state.js";
import { parseComposer } from "./commands.js";
import { attachComposer } from "./composer.js";
import { Connection, LINK_STATE, type LinkState } from "./connection.js";
import { LINE_KIND } from "./conversation.js";
import { byId } from "./dom.js";
import { olderRequest, startHistory } from "./history.js";
import { renderLog, renderNicks, renderTabs, type ViewActions } from "./view.js";

/** Where the page finds the server: `?ws=` for a dev server, else this page's own host. */
function serverUrl(): string {
  const override = new URLSearchParams(location.search).get("ws");
  if (override) return override;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

const state = new ChatState();
let link: { state: LinkState; retryInMs?: number; reason?: string } = { state: LINK_STATE.stopped };
let refCounter = 0;
let connection: Connection | undefined;
const chat = byId<HTMLDivElement>("chat");

const actions: ViewActions = {
  show: (key) => {
    state.show(key);
    chat.classList.remove("show-rooms");
    render();
  },
  close: (conversation) => {
    if (conversation.kind === "room" && conversation.joined) {
      request({ type: "part", ref: nextRef(), room: conversation.title });
      return;
    }
    state.conversations.delete(conversation.key);
    if (state.active === conversation.key) state.active = state.conversations.keys().next().value;
    render();
  },
  loadOlder: (conversation) => {
    const frame = olderRequest(conversation, nextRef());
    if (frame !== undefined && !connection?.send(frame)) conversation.pendingHistory = undefined;
    render();
  },
  openDm: (nick) => {
    if (state.isMe(nick)) return;
    state.show(state.openDm(nick).key);
    chat.classList.remove("show-nicks");
    render();
    byId("composer").focus();
  },
};

function nextRef(): string {
  refCounter += 1;
  return `w${refCounter}`;
}

function request(frame: ClientFrame): boolean {
  if (connection?.send(frame)) return true;
  state.note(
    "Not connected: the message was not sent. The page reconnects by itself.",
    LINE_KIND.error,
  );
  render();
  return false;
}

function render(): void {
  const conversation =
    state.active === undefined ? undefined : state.conversations.get(state.active);
  if (conversation !== undefined) conversation.unread = 0;
  const title =
    conversation === undefined
      ? ""
      : conversation.kind === "room"
        ? `#${conversation.title}`
        : conversation.title;
  byId("title").textContent = `${title} · ${state.nick}`;
  const status = byId("status");
  status.className = `status ${link.state}`;
  status.textContent =
    link.state === LINK_STATE.waiting
      ? `offline, retrying in ${Math.ceil((link.retryInMs ?? 0) / 1000)} s`
      : link.state;
  byId("retry").hidden = link.state !== LINK_STATE.waiting;
  renderTabs(state, byId("tabs"), actions);
  renderLog(conversation, byId("log"), actions, link.state === LINK_STATE.online);
  renderNicks(state, conversation, byId("nick-list"), actions);
  const count =
    conversation?.kind === "room" ? `${conversation.nicks.size} here` : "Direct message";
  byId("nick-count").textContent = count;
  const unread = [...state.conversations.values()].reduce((sum, c) => sum + c.unread, 0);
  document.title = unread > 0 ? `(${unread}) tcpchat` : "tcpchat";
}

function send(text: string): boolean {
  const conversation =
    state.active === undefined ? undefined : state.conversations.get(state.active);
  if (conversation === undefined) return false;
  const ref = nextRef();
  const command = parseComposer(text, conversation, ref);
  if ("problem" in command) {
    state.note(command.problem, LINE_KIND.error);
    render();
    return false;
  }
  const { frame, echo, history } = command;
  if (!request(frame)) return false;
  if (history !== undefined) startHistory(conversation, history);
  if (frame.type === "register") state.noteOnAck(ref, `Registered ${state.nick}.`);
  if (frame.type === "auth") state.noteOnAck(ref, `Logged in as ${frame.name}.`);
  if (echo !== undefined) {
    const key = frame.type === "dm" ? state.openDm(frame.to).key : echo.key;
    state.expectAck(ref, key, echo.text, echo.action ? LINE_KIND.action : LINE_KIND.message);
    if (frame.type === "dm" && key === dmKey(frame.to)) state.show(key);
  }
  render();
  return true;
}

function join(nick: string, firstRoom: string): void {
  connection = new Connection({
    url: serverUrl(),
    hello: () => ({
      type: "hello",
      proto: PROTOCOL_VERSION,
      nick: state.nick || nick,
      ...(firstRoom ? { room: firstRoom } : {}),
      client: "tcpchat-web",
      // A busy room's runs of messages as one frame each: about 60% of the bytes (spec 4.6).
      compact: true,
    }),
    onWelcome: (welcome, reconnected) => {
      if (!reconnected) return;
      // A new session: rejoin every room the page was in; the history stays on the page.
      for (const room of state.joinedRooms()) {
        if (room !== welcome.room) connection?.send({ type: "join", ref: nextRef(), room });
      }
      state.note("Reconnected.");
    },
    onFrame: (frame) => {
      state.apply(frame);
      render();
    },
    onState: (linkState, detail) => {
      link = { state: linkState, ...detail };
      if (linkState === LINK_STATE.waiting) {
        for (const c of state.conversations.values()) c.nicks.clear();
        state.note(
          `Connection lost${detail.reason ? ` (${detail.reason})` : ""}.`,
          LINE_KIND.error,
        );
      }
      render();
    },
  });
  byId("join-screen").hidden = true;
  chat.hidden = false;
  connection.start();
  byId("composer").focus();
}

byId<HTMLFormElement>("join-screen").addEventListener("submit", (event) => {
  event.preventDefault();
  const nick = normalizeName(byId<HTMLInputElement>("nick").value.trim(), "nick");
  const roomInput = byId<HTMLInputElement>("first-room").value.trim();
  const room = roomInput === "" ? "" : normalizeName(roomInput, "room");
  const problem = [nick, room].find((value) => typeof value !== "string");
  if (problem !== undefined) {
    byId("join-problem").textContent = (problem as Error).message;
    return;
  }
  localStorage.setItem("tcpchat.nick", nick as string);
  join(nick as string, room as string);
});

byId<HTMLFormElement>("join-room").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>("join-room-name");
  if (input.value.trim() && request({ type: "join", ref: nextRef(), room: input.value.trim() })) {
    input.value = "";
  }
});
byId("retry").addEventListener("click", () => connection?.retryNow());
// Scrolled to the top: ask for the page before the oldest message shown.
byId("log").addEventListener("scroll", (event) => {
  const log = event.currentTarget as HTMLElement;
  const conversation =
    state.active === undefined ? undefined : state.conversations.get(state.active);
  if (log.scrollTop > 0 || conversation === undefined || link.state !== LINK_STATE.online) return;
  if (conversation.pendingHistory === undefined && !conversation.historyStart) {
    actions.loadOlder(conversation);
  }
});
byId("toggle-rooms").addEventListener("click", () => chat.classList.toggle("show-rooms"));
byId("toggle-nicks").addEventListener("click", () => chat.classList.toggle("show-nicks"));
attachComposer(byId<HTMLTextAreaElement>("composer"), { onSend: send });
byId<HTMLInputElement>("nick").value = localStorage.getItem("tcpchat.nick") ?? "";
