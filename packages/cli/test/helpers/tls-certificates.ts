import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestCertificate } from "./certificate.js";

/** What a run-time test certificate says about itself. */
export interface CertificateSpec {
  commonName: string;
  /** subjectAltName entries, such as `DNS:localhost` or `IP:127.0.0.1`. */
  altNames: string[];
  /** Validity as OpenSSL dates (`YYYYMMDDHHMMSSZ`); default: from now for a day. */
  validity?: { notBefore: string; notAfter: string };
}

/**
 * Makes a self-signed certificate with the `openssl` command. OpenSSL 3.0's `req -x509` takes
 * no start date, so a given validity (an expired certificate, say) goes through `openssl ca
 * -selfsign`, which takes both dates.
 */
export function makeCertificateFrom(spec: CertificateSpec): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-cli-cert-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const san = `subjectAltName=${spec.altNames.join(",")}`;
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  if (spec.validity === undefined) {
    execFileSync(
      "openssl",
      ["req", "-x509", ...key, "-days", "1", "-subj", `/CN=${spec.commonName}`].concat([
        "-addext",
        san,
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ]),
      { stdio: "pipe" },
    );
  } else {
    const csrFile = join(dir, "req.csr");
    execFileSync(
      "openssl",
      ["req", ...key, "-subj", `/CN=${spec.commonName}`, "-keyout", keyFile, "-out", csrFile],
      { stdio: "pipe" },
    );
    const db = join(dir, "ca");
    mkdirSync(db);
    writeFileSync(join(db, "index.txt"), "");
    writeFileSync(join(db, "serial"), "01\n");
    const config = join(dir, "ca.cnf");
    writeFileSync(
      config,
      [
        "[ca]",
        "default_ca = self",
        "[self]",
        `database = ${join(db, "index.txt")}`,
        `new_certs_dir = ${db}`,
        `serial = ${join(db, "serial")}`,
        "default_md = sha256",
        "policy = any",
        "[any]",
        "commonName = supplied",
        "[leaf]",
        san.replace("=", " = "),
        "",
      ].join("\n"),
    );
    execFileSync(
      "openssl",
      ["ca", "-batch", "-config", config, "-selfsign", "-keyfile", keyFile, "-in", csrFile]
        .concat(["-out", certFile, "-notext", "-extensions", "leaf"])
        .concat(["-startdate", spec.validity.notBefore, "-enddate", spec.validity.notAfter]),
      { stdio: "pipe" },
    );
  }
  return {
    cert: readFileSync(certFile, "utf8"),
    certFile,
    keyFile,
    dir,
  };
}
