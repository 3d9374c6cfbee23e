/**
 * The message box. Enter sends, Shift+Enter is a new line, and Enter that confirms an IME
 * composition (Korean, Japanese, Chinese input) never sends: the browser reports it as a
 * keydown with `isComposing` set, or with keyCode 229 (Chrome and Safari in some orders of
 * events), and some browsers fire it between `compositionstart` and `compositionend`.
 */
export interface ComposerOptions {
  /** Called with the text when the user sends it; return true to clear the box. */
  readonly onSend: (text: string) => boolean;
}

/** Whether a keydown belongs to an IME composition, so it must not act as a command key. */
export function isCompositionKey(event: KeyboardEvent, composing: boolean): boolean {
  return composing || event.isComposing || event.keyCode === 229;
}

/** Wires a textarea as the composer. */
export function attachComposer(box: HTMLTextAreaElement, options: ComposerOptions): void {
  let composing = false;
  box.addEventListener("compositionstart", () => {
    composing = true;
  });
  box.addEventListener("compositionend", () => {
    composing = false;
  });
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey) return;
    if (isCompositionKey(event, composing)) return;
    event.preventDefault();
    if (options.onSend(box.value)) box.value = "";
  });
}
