import type { ChatState } from "./chat-state.js";
import type { ChatLine, Conversation } from "./conversation.js";
import { element } from "./dom.js";

/** What the user can do from the lists. */
export interface ViewActions {
  readonly show: (key: string) => void;
  readonly close: (conversation: Conversation) => void;
  readonly openDm: (nick: string) => void;
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
  return element("li", { class: `line ${line.kind}` }, ...parts);
}

/** The shown conversation's history; stays scrolled to the bottom when it was there. */
export function renderLog(
  conversation: Conversation | undefined,
  log: HTMLElement,
  actions: ViewActions,
): void {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.replaceChildren(...(conversation?.lines ?? []).map((line) => renderLine(line, actions)));
  if (atBottom) log.scrollTop = log.scrollHeight;
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
