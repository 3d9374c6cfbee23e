import { afterEach, describe, expect, it } from "vitest";
import { displayWidth } from "../src/terminal/width.js";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

afterEach(killAllCli);

describe("the operator console's /who", () => {
  it("lines its columns up by display width with Korean nicks", async () => {
    const { serve, port } = await startServe();
    const nicks = ["김민지", "bob", "이서연_dev"];
    for (const nick of nicks) {
      const client = runCli(["connect", `127.0.0.1:${port}`, "--nick", nick]);
      await client.waitForStderr(new RegExp(`you are ${nick} in #lobby`));
    }
    serve.write("/who\n");
    await serve.waitForStdout(/\*\*\* 3 clients\n(\*\*\* .*\n){4}/);
    const table = serve.stdout
      .slice(serve.stdout.indexOf("*** 3 clients"))
      .split("\n")
      .slice(1, 5)
      .map((line) => line.replace(/^\d\d:\d\d:\d\d /, ""));
    expect(table[0]).toMatch(/^\*\*\* {3}nick +session +address +mode +connected +rooms$/);
    for (const nick of nicks) expect(table.some((l) => l.startsWith(`***   ${nick} `))).toBe(true);
    // Every column starts at the same display column on every row (where the header's does).
    for (const header of ["session", "address", "mode", "connected", "rooms"]) {
      const column = displayWidth(table[0]!.slice(0, table[0]!.indexOf(header)));
      for (const line of table.slice(1)) {
        const cells = line.slice(6).split(/ {2,}/);
        const index = ["nick", "session", "address", "mode", "connected", "rooms"].indexOf(header);
        const cell = cells[index]!;
        expect(displayWidth(line.slice(0, line.indexOf(cell, 6))), `${header} in ${line}`).toBe(
          column,
        );
      }
    }
  });
});
