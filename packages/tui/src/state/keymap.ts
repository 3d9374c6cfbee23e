/**
 * Keys and what they do, shell-like (readline/emacs bindings) with irssi's tab keys. Names
 * are blessed's `key.full` spellings, so the view passes them through untouched.
 */
import type { EditOp } from "./input.js";

/** What a key does besides inserting its character. */
export type KeyCommand =
  | EditOp
  | "submit"
  | "historyBack"
  | "historyForward"
  | "complete"
  | "pageUp"
  | "pageDown"
  | "scrollBottom"
  | "nextTab"
  | "previousTab"
  | `tab${number}`
  | "interrupt"
  | "eof"
  | "cancel";

/** Key name -> command. */
export const KEYMAP: Readonly<Record<string, KeyCommand>> = {
  // blessed reports Enter as "return" and again as "enter": bind only one of them.
  enter: "submit",
  left: "left",
  "C-b": "left",
  right: "right",
  "C-f": "right",
  home: "home",
  "C-a": "home",
  end: "end",
  "C-e": "end",
  "M-b": "wordLeft",
  "M-left": "wordLeft",
  "C-left": "wordLeft",
  "M-f": "wordRight",
  "M-right": "wordRight",
  "C-right": "wordRight",
  backspace: "backspace",
  "C-h": "backspace",
  delete: "delete",
  "C-w": "deleteWordBack",
  "M-backspace": "deleteWordBack",
  "M-d": "deleteWordForward",
  "C-u": "killToStart",
  "C-k": "killToEnd",
  "C-t": "transpose",
  up: "historyBack",
  down: "historyForward",
  tab: "complete",
  pageup: "pageUp",
  pagedown: "pageDown",
  "M-end": "scrollBottom",
  "C-end": "scrollBottom",
  "C-n": "nextTab",
  "M-n": "nextTab",
  "C-p": "previousTab",
  "M-p": "previousTab",
  "C-c": "interrupt",
  "C-d": "eof",
  escape: "cancel",
  "M-1": "tab1",
  "M-2": "tab2",
  "M-3": "tab3",
  "M-4": "tab4",
  "M-5": "tab5",
  "M-6": "tab6",
  "M-7": "tab7",
  "M-8": "tab8",
  "M-9": "tab9",
};
