import { describe, expect, it } from "vitest";
import { LineBudget } from "./line-budget.js";

describe("LineBudget", () => {
  it("prints up to the budget in a second and sums up the rest", () => {
    const printed: string[] = [];
    const budget = new LineBudget(200, (line) => printed.push(line));
    for (let i = 0; i < 250; i++) budget.offer(() => `line ${i}`);
    budget.stop();
    expect(printed).toHaveLength(201);
    expect(printed[199]).toBe("line 199");
    expect(printed[200]).toMatch(/^\*\*\* 50 more lines of room traffic not shown/);
  });

  it("says nothing extra when the budget was not exceeded", () => {
    const printed: string[] = [];
    const budget = new LineBudget(5, (line) => printed.push(line));
    budget.offer(() => "only one");
    budget.stop();
    expect(printed).toEqual(["only one"]);
  });
});
