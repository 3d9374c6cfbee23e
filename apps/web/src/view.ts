import type { ChatState } from "./chat-state.js";
import type { ChatLine, Conversation } from "./conversation.js";
import { element } from "./dom.js";

/** What the user can do from the lists. */
export interface ViewActions {
  readonly show: (key: string) => void;
  readonly close: (conversation: Conversation) => void;
  readonly openDm: (nick: string) => void;
  /** Asks for the page of history before the oldest message shown. */
  readonly loadOlder: (conversation: Conversation) => void;
}

/** The conversation tabs, each with its unread count and a close button. */
export function renderTabs(state: ChatState, list: HTMLElement, actions: ViewActions): void {
  const items = [...state.conversations.values()].map((conversation) => {
    const label = conversation.kind === "room" ? `#${conversation.title}` : conversation.title;
    const open = element("button", { class: "tab-open", type: "button" }, label);
    if (conversation.unread > 0) {
      open.append(element("span", { class: "unread" }, String(conversation.unread)));
    }
    open.addEventListener("click", () => actions.show(conversation.key));
    const closeLabel = conversation.kind === "room" ? `leave #${conversation.title}` : "close";
    const close = element(
      "button",
      { class: "tab-close", type: "button", "aria-label": closeLabel },
      "×",
    );
    close.addEventListener("click", () => actions.close(conversation));
    const classes = ["tab", conversation.kind];
    if (conversation.key === state.active) classes.push("active");
    if (conversation.kind === "room" && !conversation.joined) classes.push("left");
    return element("li", { class: classes.join(" "), "data-key": conversation.key }, open, close);
  });
  list.replaceChildren(...items);
}

function formatTime(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function renderLine(line: ChatLine, actions: ViewActions): HTMLElement {
  const time = element("time", { datetime: new Date(line.ts).toISOString() }, formatTime(line.ts));
  const parts: Array<Node | string> = [time, " "];
  if (line.from !== undefined) {
    const from = element("button", { class: "from", type: "button" }, line.from);
    const nick = line.from;
    from.addEventListener("click", () => actions.openDm(nick));
    parts.push(line.kind === "action" ? "* " : "", from, " ");
  }
  parts.push(element("span", { class: "text" }, line.text));
  if (line.history === true) {
    // Marked in words as well as in style: screen readers and copied text say it too.
    return element(
      "li",
      { class: `line ${line.kind} history`, title: "from history: said before you came" },
      ...parts,
    );
  }
  return element("li", { class: `line ${line.kind}` }, ...parts);
}

/** The first row of the log: a button for older history, or where history starts. */
function historyTop(
  conversation: Conversation,
  actions: ViewActions,
  online: boolean,
): HTMLElement {
  if (conversation.historyStart) {
    return element("li", { class: "history-top start" }, "Start of the history");
  }
  const loading = conversation.pendingHistory?.kind === "older";
  const button = element(
    "button",
    { type: "button", class: "load-older" },
    loading ? "Loading older messages…" : "Load older messages",
  );
  if (loading || !online) button.setAttribute("disabled", "");
  button.addEventListener("click", () => actions.loadOlder(conversation));
  return element("li", { class: "history-top" }, button);
}

/** The shown conversation's history; stays scrolled to the bottom when it was there. */
export function renderLog(
  conversation: Conversation | undefined,
  log: HTMLElement,
  actions: ViewActions,
  online: boolean,
): void {
  const fromBottom = log.scrollHeight - log.scrollTop;
  const atBottom = fromBottom - log.clientHeight < 40;
  const sameConversation = log.dataset.key === conversation?.key;
  const rows = (conversation?.lines ?? []).map((line) => renderLine(line, actions));
  if (conversation !== undefined) rows.unshift(historyTop(conversation, actions, online));
  log.replaceChildren(...rows);
  log.dataset.key = conversation?.key ?? "";
  if (atBottom || !sameConversation) log.scrollTop = log.scrollHeight;
  // Lines put above (an older page) leave the lines in view where they were.
  else log.scrollTop = log.scrollHeight - fromBottom;
}

/** The members of the shown room (a DM shows its peer); a click opens a DM. */
export function renderNicks(
  state: ChatState,
  conversation: Conversation | undefined,
  list: HTMLElement,
  actions: ViewActions,
): void {
  const nicks =
    conversation === undefined
      ? []
      : conversation.kind === "dm"
        ? [conversation.title]
        : [...conversation.nicks].sort((a, b) => a.localeCompare(b));
  list.replaceChildren(
    ...nicks.map((nick) => {
      const button = element("button", { type: "button", class: "nick" }, nick);
      if (state.isMe(nick)) button.classList.add("me");
      else button.addEventListener("click", () => actions.openDm(nick));
      return element("li", {}, button);
    }),
  );
}
