// The benchmark's own traffic programs, run inside the namespaces (`node --import tsx probe.ts ...`):
//
//   probe.ts serve --address A --tcp PORT --udp PORT   TCP acceptor and UDP echo; prints "ready"
//   probe.ts connect --target A:P --seconds S [--concurrency N]
//       new TCP connections as fast as they complete (each closed with a RST at once, so no
//       TIME_WAIT piles up); prints {"connections","failures","seconds"}
//   probe.ts pingpong --target A:P --seconds S [--max N]
//       one 32-byte UDP datagram at a time to the echo, round-trip times in microseconds; prints
//       {"samples","lost","p50Us","p99Us"}
//   probe.ts refused --target A:P --seconds S [--interval-ms N]
//       a UDP datagram every N ms (default 100) to a closed port; the ICMP port-unreachable errors
//       that come back (ECONNREFUSED on the connected socket) are counted: {"sent","refused"}.
//       ICMP through the datapath without ping (the kernel rate-limits these errors to about 1/s
//       per peer, with a burst)
//
// Results are one JSON line on stdout. Timing is the measurement itself, never an assertion.
import { createSocket } from "node:dgram";
import { createServer, connect as tcpConnect } from "node:net";

function option(args: string[], name: string, fallback?: string): string {
  const at = args.indexOf(name);
  const value = at >= 0 ? args[at + 1] : fallback;
  if (value === undefined) throw new Error(`probe: ${name} is required`);
  return value;
}

function target(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`probe: bad target ${text}`);
  return { host: text.slice(0, colon), port };
}

function serve(args: string[]): void {
  const address = option(args, "--address");
  const tcp = createServer((socket) => {
    socket.on("error", () => socket.destroy());
    socket.resume();
  });
  tcp.on("error", (error) => {
    process.stderr.write(`probe serve: ${error.message}\n`);
    process.exit(1);
  });
  const udp = createSocket("udp4");
  udp.on("message", (msg, peer) => udp.send(msg, peer.port, peer.address));
  let waiting = 2;
  const ready = (): void => {
    if (--waiting === 0) process.stdout.write("ready\n");
  };
  tcp.listen({ port: Number(option(args, "--tcp")), host: address, backlog: 4096 }, ready);
  udp.bind(Number(option(args, "--udp")), address, ready);
}

/** Opens connections with `concurrency` in flight until the time is up. */
async function connectRate(args: string[]): Promise<void> {
  const { host, port } = target(option(args, "--target"));
  const seconds = Number(option(args, "--seconds"));
  const concurrency = Number(option(args, "--concurrency", "32"));
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let connections = 0;
  let failures = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = tcpConnect({ host, port });
      const timer = setTimeout(() => {
        failures++;
        socket.destroy();
        resolve();
      }, 3000);
      socket.once("connect", () => {
        clearTimeout(timer);
        connections++;
        socket.resetAndDestroy();
        resolve();
      });
      socket.once("error", () => {
        clearTimeout(timer);
        if (!socket.destroyed) socket.destroy();
        failures++;
        resolve();
      });
    });
  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`${JSON.stringify({ connections, failures, seconds: elapsed })}\n`);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** UDP ping-pong: one datagram in flight, its round trip timed. */
async function pingpong(args: string[]): Promise<void> {
  const { host, port } = target(option(args, "--target"));
  const seconds = Number(option(args, "--seconds"));
  const max = Number(option(args, "--max", "20000"));
  const socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(port, host, () => resolve());
  });
  const payload = Buffer.alloc(32, 0x55);
  const samples: number[] = [];
  let lost = 0;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  while (samples.length < max && process.hrtime.bigint() < deadline) {
    const sent = process.hrtime.bigint();
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        socket.removeListener("message", onMessage);
        resolve(false);
      }, 500);
      const onMessage = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      socket.once("message", onMessage);
      socket.send(payload);
    });
    if (answered) samples.push(Number(process.hrtime.bigint() - sent) / 1000);
    else lost++;
  }
  socket.close();
  const sorted = Float64Array.from(samples).sort();
  process.stdout.write(`${JSON.stringify({ samples: samples.length, lost, p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99) })}\n`);
}

/** Datagrams to a closed port; each ICMP port unreachable that comes back is counted. */
async function refused(args: string[]): Promise<void> {
  const { host, port } = target(option(args, "--target"));
  const seconds = Number(option(args, "--seconds"));
  const intervalMs = Number(option(args, "--interval-ms", "100"));
  const socket = createSocket("udp4");
  let sent = 0;
  let refusals = 0;
  socket.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "ECONNREFUSED") refusals++;
  });
  await new Promise<void>((resolve) => socket.connect(port, host, () => resolve()));
  const timer = setInterval(() => {
    sent++;
    socket.send("?");
  }, intervalMs);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 500));
  socket.close();
  process.stdout.write(`${JSON.stringify({ sent, refused: refusals })}\n`);
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => void | Promise<void>> = { serve, connect: connectRate, pingpong, refused };
const chosen = commands[command ?? ""];
if (chosen === undefined) {
  process.stderr.write("usage: probe.ts serve|connect|pingpong [options] (see the comment at the top)\n");
  process.exit(2);
}
Promise.resolve(chosen(rest)).catch((error: Error) => {
  process.stderr.write(`probe ${command}: ${error.message}\n`);
  process.exit(1);
});
