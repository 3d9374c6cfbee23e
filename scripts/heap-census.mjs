// Where an idle connection's heap goes: starts a ChatServer in this process (from the built
// core), connects N text clients from a child process, and compares two heap snapshots, one
// before the clients and one while they sit idle, by constructor. Prints what each connection
// costs in objects and bytes, largest first.
//
//   node scripts/heap-census.mjs [--clients 10000] [--top 30] [--keep DIR] [--shapes Object,...]
//                                [--max-connections N]
//
// The clients live in another process so that their sockets are not in the server's heap.
// Build core first (`pnpm build`). The open-file limit must allow N sockets in each process.
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : args[at + 1];
};

/** The child: connects `count` sockets, waits for each greeting, then holds them until told. */
async function runClients(port, count) {
  const sockets = [];
  // A bounded number of connects in flight, so that the listen queue never overflows.
  const IN_FLIGHT = 200;
  let started = 0;
  let greeted = 0;
  await new Promise((done, fail) => {
    const next = () => {
      if (started >= count) return;
      started += 1;
      const socket = connect({ port, host: "127.0.0.1" });
      sockets.push(socket);
      let first = true;
      socket.on("data", (chunk) => {
        if (!first || !chunk.includes(0x0a)) return;
        first = false;
        greeted += 1;
        if (greeted === count) done();
        else next();
      });
      socket.on("error", fail);
    };
    for (let i = 0; i < Math.min(IN_FLIGHT, count); i++) next();
  });
  process.send({ type: "ready", greeted });
  process.on("message", () => {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  });
}

async function runCensus() {
  const clients = Number(option("clients", "10000"));
  const top = Number(option("top", "30"));
  const keep = option("keep", undefined);
  for (const name of option("shapes", "Object").split(",")) shapesOf.add(name);
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const core = await import(pathToFileURL(join(root, "packages/core/dist/index.js")).href);
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  const dir = keep ?? mkdtempSync(join(tmpdir(), "heap-census-"));
  mkdirSync(dir, { recursive: true });

  // With --max-connections the server has an accept policy, as `tcpchat serve` always does.
  const maxConnections = option("max-connections", undefined);
  const server = core.createServer(
    maxConnections === undefined
      ? {}
      : { policy: core.createAcceptPolicy({ maxConnections: Number(maxConnections) }) },
  );
  const { port } = await server.listen(0, "127.0.0.1");
  // A few clients come and go first: compiled code and grown pools are in the baseline.
  await withClients(port, 50, () => waitForSettled(server, 50));
  await waitFor(() => server.sessions().length === 0, "warm-up clients to leave");
  gc();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  // Both snapshots are written before either is read: the census's own strings and maps
  // must not be in the second one.
  const beforeFile = v8.writeHeapSnapshot(join(dir, "before.heapsnapshot"));

  let heapAfter = 0;
  let afterFile = "";
  await withClients(port, clients, async () => {
    await waitForSettled(server, clients);
    gc();
    gc();
    heapAfter = process.memoryUsage().heapUsed;
    afterFile = v8.writeHeapSnapshot(join(dir, "after.heapsnapshot"));
  });
  await server.close({ graceMs: 0 });
  const before = census(beforeFile);
  const after = census(afterFile);
  if (keep === undefined) rmSync(dir, { recursive: true, force: true });

  const rows = [];
  for (const [key, now] of after.groups) {
    const was = before.groups.get(key) ?? { count: 0, bytes: 0 };
    const count = now.count - was.count;
    const bytes = now.bytes - was.bytes;
    if (Math.abs(count) >= clients / 2 || Math.abs(bytes) >= clients * 8) {
      rows.push({ key, count, bytes });
    }
  }
  rows.sort((a, b) => b.bytes - a.bytes);
  const total = after.total - before.total;
  console.log(`${clients} idle text clients, heap snapshots before and after`);
  console.log(
    `snapshot: ${(total / clients).toFixed(0)} B per connection; ` +
      `heapUsed (after gc): ${((heapAfter - heapBefore) / clients).toFixed(0)} B per connection`,
  );
  console.log("per connection:   objects    bytes  constructor (type:name)");
  for (const row of rows.slice(0, top)) {
    console.log(
      `${(row.count / clients).toFixed(2).padStart(26)} ${(row.bytes / clients)
        .toFixed(1)
        .padStart(8)}  ${row.key}`,
    );
  }
  if (keep !== undefined) console.log(`snapshots kept in ${dir}`);
}

/** Runs `during` while `count` clients are connected and greeted, then lets them go. */
async function withClients(port, count, during) {
  const child = fork(fileURLToPath(import.meta.url), ["--client", String(port), String(count)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise((done) => child.once("exit", done));
  await new Promise((done, fail) => {
    child.once("message", done);
    child.once("exit", (code) => fail(new Error(`client process exited (${code})`)));
  });
  try {
    await during();
  } finally {
    child.send({ type: "close" });
    await exited;
  }
}

/** Waits until the server has `count` sessions and every one has its mode settled. */
function waitForSettled(server, count) {
  return waitFor(() => {
    const sessions = server.sessions();
    return sessions.length === count && sessions.every((s) => s.mode !== "pending");
  }, `${count} settled sessions`);
}

async function waitFor(condition, what, deadlineMs = 120_000) {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Constructors whose objects are grouped by their property names too (`--shapes`). */
const shapesOf = new Set();

/** Node types whose name is their contents (grouped by type alone). */
const UNNAMED_TYPES = new Set(["string", "number", "code", "concatenated string", "sliced string"]);

/** Counts and self sizes of a heap snapshot's nodes, by type and constructor name. */
function census(file) {
  const snapshot = JSON.parse(readFileSync(file, "utf8"));
  const meta = snapshot.snapshot.meta;
  const fields = meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = meta.node_types[typeAt];
  const edgeWidth = meta.edge_fields.length;
  const edgeTypeAt = meta.edge_fields.indexOf("type");
  const edgeNameAt = meta.edge_fields.indexOf("name_or_index");
  const edgeTypes = meta.edge_types[edgeTypeAt];
  const edgeCountAt = fields.indexOf("edge_count");
  const { nodes, edges, strings } = snapshot;
  const groups = new Map();
  let total = 0;
  let edge = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const size = nodes[i + sizeAt];
    const edgeCount = nodes[i + edgeCountAt];
    total += size;
    const named = !UNNAMED_TYPES.has(type);
    let name = named ? strings[nodes[i + nameAt]] : "";
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    if (type === "object" && shapesOf.has(name)) {
      // Plain objects are told apart by their property names.
      const keys = [];
      for (let e = edge; e < edge + edgeCount * edgeWidth; e += edgeWidth) {
        if (edgeTypes[edges[e + edgeTypeAt]] === "property")
          keys.push(strings[edges[e + edgeNameAt]]);
      }
      name += `{${keys.join(",")}}`;
    }
    edge += edgeCount * edgeWidth;
    const key = `${type}:${name}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { count: 1, bytes: size });
    else {
      group.count += 1;
      group.bytes += size;
    }
  }
  return { groups, total };
}

if (args[0] === "--client") await runClients(Number(args[1]), Number(args[2]));
else await runCensus();
