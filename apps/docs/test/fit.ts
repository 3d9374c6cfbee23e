import type { Page } from "playwright-core";

/** Viewports every page must fit: a laptop screen, and a phone held upright. */
export const FIT_VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

/**
 * Everything on the page that does not fit, as readable lines (empty when the page fits).
 *
 * What "fits" means here:
 * - the page itself is never wider than the viewport (no sideways scrolling of the page);
 * - no element of the article reaches past the right edge of the viewport, even where an
 *   ancestor hides the overflow;
 * - a table fits its column: it does not scroll, and no cell's content is wider than the cell;
 * - a code block may be wider than its column only if it scrolls (`overflow-x: auto` or
 *   `scroll`): a transcript or a diagram keeps its lines, and the reader can reach every one;
 * - nothing in the article hides overflowing content (`overflow: hidden` or `clip` with
 *   `scrollWidth > clientWidth`).
 */
export async function findOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const viewport = document.documentElement.clientWidth;
    const describe = (element: Element): string => {
      const text = (element.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, 50);
      return `<${element.tagName.toLowerCase()}> "${text}"`;
    };
    const pageWidth = document.documentElement.scrollWidth;
    if (pageWidth > viewport) {
      // Name the outermost elements that stick out, wherever they are (nav, footer, article).
      const culprits = Array.from(document.body.querySelectorAll("*"))
        .filter((element) => {
          const parent = element.parentElement;
          // Lines inside a code block run on by design: the block scrolls.
          if (element.closest("pre")) return false;
          return (
            element.getBoundingClientRect().right > viewport + 1 &&
            parent !== null &&
            parent.getBoundingClientRect().right <= viewport + 1
          );
        })
        .slice(0, 3)
        .map((element) => `${describe(element)}.${element.className}`);
      problems.push(
        `page is ${pageWidth - viewport}px wider than the ${viewport}px viewport (${culprits.join(", ")})`,
      );
    }
    const article = document.querySelector(".vp-doc");
    if (!article) return problems;
    for (const element of Array.from(article.querySelectorAll("*"))) {
      // A stacked table's header row is hidden from sight (kept for screen readers).
      const head = element.closest("thead");
      if (head && getComputedStyle(head).clipPath !== "none") continue;
      const style = getComputedStyle(element);
      const overflowing = element.scrollWidth > element.clientWidth + 1;
      const clips = style.overflowX === "hidden" || style.overflowX === "clip";
      const scrolls = style.overflowX === "auto" || style.overflowX === "scroll";
      // Lines inside a code block may run on: the block scrolls, and is checked itself.
      const inCode = element.parentElement?.closest("pre") != null;
      if (!inCode) {
        const right = element.getBoundingClientRect().right;
        if (right > viewport + 1) {
          problems.push(
            `${describe(element)} ends ${Math.round(right - viewport)}px past the viewport`,
          );
        }
      }
      if (element.tagName === "TABLE" && overflowing) {
        problems.push(
          `table ${describe(element)} is ${element.scrollWidth - element.clientWidth}px wider than its column`,
        );
      } else if ((element.tagName === "TD" || element.tagName === "TH") && overflowing) {
        problems.push(
          `cell ${describe(element)} is cut off by ${element.scrollWidth - element.clientWidth}px`,
        );
      } else if (element.tagName === "PRE" && overflowing && !scrolls) {
        problems.push(
          `code block ${describe(element)} is cut off (overflow-x: ${style.overflowX})`,
        );
      } else if (overflowing && clips && !inCode) {
        problems.push(`${describe(element)} hides ${element.scrollWidth - element.clientWidth}px`);
      }
    }
    return problems;
  });
}
