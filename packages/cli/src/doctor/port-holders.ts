import { readdir, readFile, readlink } from "node:fs/promises";

const TCP_LISTEN = "0A";
// Long enough to tell which program it is, short enough for one line of an error.
const MAX_COMMAND = 120;

/** A process that holds a listening socket on a port. */
export interface PortHolder {
  pid: number;
  /** Its command line, arguments joined by spaces (cut to 120 characters, marked `...`). */
  command: string;
}

/**
 * Which processes listen on `port`, as far as this user may see: on Linux the inodes of the
 * listening sockets in /proc/net/tcp(6), matched against /proc/PID/fd links. Processes of
 * other users (without root) cannot be looked into, so an empty list means "not known", not
 * "nobody". Elsewhere (no /proc) it is always empty.
 */
export async function findPortHolders(port: number): Promise<PortHolder[]> {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const inode of listeningInodes(text, port)) inodes.add(inode);
  }
  if (inodes.size === 0) return [];
  const pids = (await readdir("/proc").catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  const holders: PortHolder[] = [];
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode === undefined || !inodes.has(inode)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      const command = cmdline.split("\0").filter(Boolean).join(" ");
      holders.push({
        pid: Number(pid),
        command: command.length > MAX_COMMAND ? `${command.slice(0, MAX_COMMAND - 3)}...` : command,
      });
      break;
    }
  }
  return holders;
}

/**
 * The socket inodes listening on `port` in one /proc/net/tcp(6) table (`st` 0A is LISTEN;
 * the inode is the tenth column). Inode 0 (a socket being torn down) is skipped.
 */
export function listeningInodes(text: string, port: number): string[] {
  const out: string[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const inode = fields[9];
    if (!local || fields[3] !== TCP_LISTEN || !inode || inode === "0") continue;
    if (Number.parseInt(local.split(":")[1] ?? "", 16) === port) out.push(inode);
  }
  return out;
}
