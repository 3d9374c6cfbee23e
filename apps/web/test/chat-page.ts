import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

/** Playwright's waits, long enough for a busy two-core machine. */
export const PAGE_TIMEOUT_MS = 15_000;

/** One person in a browser tab: opens the page, joins with a nick, types and reads. */
export class ChatPage {
  private constructor(readonly page: Page) {}

  /** Opens the chat at `url` in a new page of `width` px and joins as `nick`. */
  static async join(browser: Browser, url: string, nick: string, width = 390): Promise<ChatPage> {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    await page.goto(url);
    await page.fill("#nick", nick);
    await page.click("#join-screen button[type=submit]");
    const chat = new ChatPage(page);
    await chat.waitOnline();
    return chat;
  }

  async waitOnline(): Promise<void> {
    await this.page.waitForSelector("#status.online");
  }

  /** Types `text` in the composer and presses Enter. */
  async say(text: string): Promise<void> {
    await this.page.fill("#composer", text);
    await this.page.press("#composer", "Enter");
  }

  /** Waits for a line in the shown conversation whose text is `text`. */
  async waitForLine(text: string): Promise<void> {
    await this.page
      .locator("#log .line .text", { hasText: text })
      .first()
      .waitFor({ state: "visible" });
  }

  /** The texts of the shown conversation's lines. */
  lineTexts(): Promise<string[]> {
    return this.page.locator("#log .line .text").allTextContents();
  }

  /** The nicks listed for the shown room. */
  nicks(): Promise<string[]> {
    return this.page.locator("#nick-list .nick").allTextContents();
  }

  /** Fails unless the page is no wider than its viewport (nothing to scroll sideways). */
  async expectFitsWidth(): Promise<void> {
    const { scroll, client } = await this.page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(scroll).toBeLessThanOrEqual(client);
  }
}
