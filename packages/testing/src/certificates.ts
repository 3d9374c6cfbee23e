import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A self-signed certificate made at run time (no key is committed). */
export interface TestCertificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  dir: string;
}

/**
 * Makes a self-signed certificate for localhost and 127.0.0.1 with the `openssl` command, in a
 * fresh temporary directory (or in `dir`, replacing the files there).
 */
export function makeCertificate(commonName = "localhost", dir?: string): TestCertificate {
  const where = dir ?? mkdtempSync(join(tmpdir(), "tcpchat-cert-"));
  const certFile = join(where, "cert.pem");
  const keyFile = join(where, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdio: "pipe" },
  );
  return {
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
    certFile,
    keyFile,
    dir: where,
  };
}

/** Removes a certificate's temporary directory. */
export function removeCertificate(certificate: TestCertificate): void {
  rmSync(certificate.dir, { recursive: true, force: true });
}

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
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-cert-"));
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
    key: readFileSync(keyFile, "utf8"),
    certFile,
    keyFile,
    dir,
  };
}

/** The certificates a TLS failure test needs: one that works, an expired one, a wrong-name one. */
export interface CertificateTrio {
  /** For localhost and 127.0.0.1, valid from now for a day. */
  good: TestCertificate;
  /** For localhost and 127.0.0.1, valid only on 1 January 2020. */
  expired: TestCertificate;
  /** Valid, but only for elsewhere.example. */
  elsewhere: TestCertificate;
  /** Removes all three. */
  remove(): void;
}

/** Makes a {@link CertificateTrio}; `label` names their subjects (what doctor prints). */
export function makeCertificateTrio(label: string): CertificateTrio {
  const good = makeCertificate(`${label}-good`);
  const expired = makeCertificateFrom({
    commonName: `${label}-expired`,
    altNames: ["DNS:localhost", "IP:127.0.0.1"],
    validity: { notBefore: "20200101000000Z", notAfter: "20200102000000Z" },
  });
  const elsewhere = makeCertificateFrom({
    commonName: `${label}-elsewhere`,
    altNames: ["DNS:elsewhere.example"],
  });
  return {
    good,
    expired,
    elsewhere,
    remove: () => {
      for (const certificate of [good, expired, elsewhere]) removeCertificate(certificate);
    },
  };
}
