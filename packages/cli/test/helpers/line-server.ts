import { createServer, type Server, type Socket } from "node:net";

/**
 * A plain line server like the Java tutorial's: greets each client with a line that is not a
 * tcpchat greeting, echoes every line back as `echo: LINE`, and closes after `bye`.
 */
export async function startLineServer(
  greeting = "Welcome to the echo server",
  options: { promptAfterGreeting?: string } = {},
): Promise<{
  port: number;
  received: string[];
  connections: () => number;
  close: () => Promise<void>;
}> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.setEncoding("utf8");
    if (greeting) socket.write(`${greeting}\n`);
    // Like a Java program's `out.print("Name: ")`: a prompt with no line ending.
    if (options.promptAfterGreeting) socket.write(options.promptAfterGreeting);
    let buffer = "";
    socket.on("data", (text: string) => {
      buffer += text;
      for (let lf = buffer.indexOf("\n"); lf !== -1; lf = buffer.indexOf("\n")) {
        const line = buffer.slice(0, lf).replace(/\r$/, "");
        buffer = buffer.slice(lf + 1);
        received.push(line);
        socket.write(`echo: ${line}\n`);
        if (line === "bye") socket.end();
      }
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return {
    port: address.port,
    received,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
