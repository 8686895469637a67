// The probe client, run inside the `from` namespace by probe.ts:
//   node --import tsx probe-client.ts '{"kind":"http","address":"10.0.0.1","port":80,"sourcePort":41000,"source":null,"timeoutS":2}'
// It makes one attempt and prints one JSON line: {"outcome","peer","durationMs","detail"}.
// TCP and UDP bind the fixed source port they are given; ICMP uses ping, or a raw socket from
// python3 where ping is not installed.
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import type { Outcome, ProbeKind } from "./format.ts";

export interface ProbeRequest {
  kind: ProbeKind;
  address: string;
  port: number | null;
  sourcePort: number;
  source: string | null;
  timeoutS: number;
}

export interface ProbeAnswer {
  outcome: Outcome;
  /** What the server said it saw (address:port), or null. */
  peer: string | null;
  durationMs: number;
  /** For people: the error code, the HTTP status line, ping's summary. */
  detail: string;
}

type Attempt = Omit<ProbeAnswer, "durationMs">;

function outcomeOfError(code: string | undefined): Outcome {
  switch (code) {
    case "ECONNREFUSED":
      return "refused";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "unreachable";
    case "ETIMEDOUT":
      return "timeout";
    default:
      return "error";
  }
}

/** A promise's resolve that only counts once, clearing the timer and closing the socket. */
function once(resolve: (a: Attempt) => void, close: () => void): { finish: (a: Attempt) => void; timer: (ms: number, a: () => Attempt) => void } {
  let settled = false;
  let timeout: NodeJS.Timeout | undefined;
  const finish = (attempt: Attempt): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timeout);
    close();
    resolve(attempt);
  };
  return { finish, timer: (ms, attempt) => (timeout = setTimeout(() => finish(attempt()), ms)) };
}

function peerFrom(text: string): string | null {
  return /^peer (\S+)/m.exec(text)?.[1] ?? null;
}

/** TCP connect (then, for http, GET / and read the answer; for tcp, read the first line). */
function tcp(request: ProbeRequest): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = connect({ host: request.address, port: request.port!, localPort: request.sourcePort, localAddress: request.source ?? undefined });
    let received = "";
    const { finish, timer } = once(resolve, () => socket.destroy());
    timer(request.timeoutS * 1000, () => ({ outcome: "timeout", peer: null, detail: received === "" ? "no answer" : "answer incomplete" }));
    socket.on("error", (error: NodeJS.ErrnoException) => finish({ outcome: outcomeOfError(error.code), peer: null, detail: error.code ?? error.message }));
    socket.on("connect", () => {
      if (request.kind === "http") socket.write(`GET / HTTP/1.0\r\nHost: ${request.address}\r\n\r\n`);
    });
    socket.on("data", (data) => {
      received += data.toString("latin1");
      if (request.kind === "tcp" && received.includes("\n")) {
        // Close first: the sink then closes its side, and the connection ends the same way each time.
        socket.end();
      }
    });
    socket.on("end", () => {
      if (request.kind === "tcp") return finish({ outcome: "ok", peer: peerFrom(received), detail: "connected" });
      const status = received.split("\r\n")[0] ?? "";
      const body = received.split("\r\n\r\n").slice(1).join("\r\n\r\n");
      const ok = / 200 /.test(status) && peerFrom(body) !== null;
      finish({ outcome: ok ? "ok" : "error", peer: peerFrom(body), detail: status || "connection closed without an answer" });
    });
  });
}

function udp(request: ProbeRequest): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const { finish, timer } = once(resolve, () => socket.close());
    timer(request.timeoutS * 1000, () => ({ outcome: "timeout", peer: null, detail: "no answer" }));
    socket.on("error", (error: NodeJS.ErrnoException) => finish({ outcome: outcomeOfError(error.code), peer: null, detail: error.code ?? error.message }));
    socket.on("message", (data) => finish({ outcome: "ok", peer: peerFrom(data.toString("latin1")), detail: "answered" }));
    socket.bind(request.sourcePort, request.source ?? undefined, () => {
      // Connected, so that an ICMP port unreachable comes back as ECONNREFUSED.
      socket.connect(request.port!, request.address, () => socket.send(`uptables lab probe ${request.sourcePort}`));
    });
  });
}

const RAW_PING = `
import os, socket, struct, sys, time
dst, ident, timeout, src = sys.argv[1], int(sys.argv[2]) & 0xffff, float(sys.argv[3]), sys.argv[4]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b + b"\\0" * (len(b) % 2)))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
if src: s.bind((src, 0))
body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"uptables lab probe"
s.sendto(body[:2] + struct.pack("!H", csum(body)) + body[4:], (dst, 0))
end = time.time() + timeout
while True:
    left = end - time.time()
    if left <= 0: print("timeout"); break
    s.settimeout(left)
    try: pkt, (frm, _) = s.recvfrom(2048)
    except socket.timeout: print("timeout"); break
    ihl = (pkt[0] & 15) * 4
    t, code = pkt[ihl], pkt[ihl + 1]
    if t == 0 and struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0] == ident: print("ok from " + frm); break
    if t in (3, 11):
        inner = pkt[ihl + 8:]
        iihl = (inner[0] & 15) * 4
        if len(inner) >= iihl + 6 and inner[9] == 1 and struct.unpack("!H", inner[iihl + 4:iihl + 6])[0] == ident:
            print("unreachable type %d code %d from %s" % (t, code, frm)); break
`;

function icmp(request: ProbeRequest): Attempt {
  const wait = String(Math.max(1, Math.ceil(request.timeoutS)));
  const ping = spawnSync("ping", ["-n", "-c", "1", "-W", wait, ...(request.source ? ["-I", request.source] : []), request.address], { encoding: "utf8" });
  let text: string;
  if (ping.error === undefined) {
    text = `${ping.stdout}${ping.stderr}`;
    if (ping.status === 0) return { outcome: "ok", peer: null, detail: "echo reply" };
  } else {
    const raw = spawnSync("python3", ["-c", RAW_PING, request.address, String(request.sourcePort), String(request.timeoutS), request.source ?? ""], { encoding: "utf8" });
    text = `${raw.stdout}${raw.stderr}`.trim();
    if (text.startsWith("ok")) return { outcome: "ok", peer: null, detail: "echo reply" };
    if (text === "timeout") return { outcome: "timeout", peer: null, detail: "no echo reply" };
  }
  if (/unreachable|Network is unreachable/i.test(text)) return { outcome: "unreachable", peer: null, detail: text.split("\n").find((l) => /unreachable/i.test(l))!.trim() };
  if (/0 received|timeout/.test(text)) return { outcome: "timeout", peer: null, detail: "no echo reply" };
  return { outcome: "error", peer: null, detail: text.trim().split("\n").pop() ?? "" };
}

export async function runProbe(request: ProbeRequest): Promise<ProbeAnswer> {
  const started = performance.now();
  const attempt = request.kind === "icmp" ? icmp(request) : request.kind === "udp" ? await udp(request) : await tcp(request);
  return { ...attempt, durationMs: Math.round((performance.now() - started) * 10) / 10 };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"))) {
  const answer = await runProbe(JSON.parse(process.argv[2] ?? "{}") as ProbeRequest);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
