import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/**
 * Password hashes in the PHC string format with scrypt, which is memory-hard: each guess costs
 * 128 * 2^ln * r bytes of memory (32 MiB at the defaults) as well as time, so guessing on GPUs
 * does not scale. `$scrypt$ln=15,r=8,p=1$SALT$HASH`, salt and hash in unpadded base64.
 */

/** scrypt cost parameters: N = 2^ln, block size r, parallelism p. */
export interface ScryptParams {
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP's scrypt recommendation at about 32 MiB: N = 2^15, r = 8, p = 1. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { ln: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
    // Node's default cap (32 MiB) is exactly what ln=15, r=8 needs; leave room above it.
    maxmem: 256 * 2 ** params.ln * params.r,
  };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFC"), salt, HASH_BYTES, options, (error, key) =>
      error === null ? resolve(key) : reject(error),
    ),
  );
}

const b64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");

/** Hashes a password with a fresh random salt; resolves the PHC string. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/**
 * Checks a password against a PHC string (with the parameters it was hashed with), comparing in
 * constant time. A string that is not a scrypt PHC string never matches.
 */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const match = PHC.exec(phc);
  if (match === null) return false;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.ln < 1 || params.ln > 20 || params.r < 1 || params.p < 1) return false;
  const expected = Buffer.from(match[5]!, "base64");
  const actual = await derive(password, Buffer.from(match[4]!, "base64"), params);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
