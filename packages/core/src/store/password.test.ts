import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./password.js";

describe("password hashes", () => {
  it("are scrypt PHC strings with the default parameters and a fresh salt each time", async () => {
    const one = await hashPassword("correct horse");
    const two = await hashPassword("correct horse");
    expect(one).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(one).not.toBe(two);
    expect(await verifyPassword("correct horse", one)).toBe(true);
    expect(await verifyPassword("correct horse", two)).toBe(true);
  });

  it("reject a wrong password, another normalization's lookalike is the same password", async () => {
    const phc = await hashPassword("caf\u00e9 password", { ln: 10, r: 8, p: 1 });
    expect(phc).toMatch(/^\$scrypt\$ln=10,/);
    expect(await verifyPassword("cafe password", phc)).toBe(false);
    expect(await verifyPassword("Caf\u00e9 password", phc)).toBe(false);
    expect(await verifyPassword("cafe\u0301 password", phc)).toBe(true);
  });

  it("never match a string that is not a scrypt PHC string", async () => {
    expect(await verifyPassword("x", "")).toBe(false);
    expect(await verifyPassword("x", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")).toBe(false);
    expect(await verifyPassword("x", "$scrypt$ln=99,r=8,p=1$c2FsdA$aGFzaA")).toBe(false);
  });
});
