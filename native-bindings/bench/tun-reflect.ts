// The TypeScript twin of upt-reflector (native-bindings/reflector.c), through src/io/tun.ts:
// every packet read from the TUN is written back into it, batch by batch, from the event loop.
//
//   tsx native-bindings/bench/tun-reflect.ts [--swap] [--vnet-hdr] [--batch N] NAME
//
// Prints "ready NAME" once the device exists and its counters on SIGINT/SIGTERM (exit 0), like the
// C program, so native-bindings/bench/run.sh can run either. Needs root (in a namespace of its own).
import { TunDevice, VNET_HDR_LEN, type PacketBatch } from "../../src/io/tun.ts";

function usage(code: number): never {
  (code === 0 ? process.stdout : process.stderr).write("usage: tun-reflect.ts [--swap] [--vnet-hdr] [--batch N] NAME\n");
  process.exit(code);
}

let swap = false;
let vnetHeader = false;
let batchSize = 64;
let name: string | undefined;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === "--swap") swap = true;
  else if (a === "--vnet-hdr") vnetHeader = true;
  else if (a === "--batch") batchSize = Number(args[++i]);
  else if (a === "--help" || a === "-h") usage(0);
  else if (a.startsWith("-")) usage(2);
  else if (name === undefined) name = a;
  else usage(2);
}
if (name === undefined || !Number.isInteger(batchSize) || batchSize < 1) usage(2);

/** Swaps IPv4 addresses and TCP/UDP ports in place (checksum-neutral), as reflector.c does. */
function swapInPlace(b: Uint8Array, at: number, len: number): void {
  if (len < 20 || b[at]! >> 4 !== 4) return;
  for (let k = 0; k < 4; k++) {
    const t = b[at + 12 + k]!;
    b[at + 12 + k] = b[at + 16 + k]!;
    b[at + 16 + k] = t;
  }
  const ihl = (b[at]! & 0x0f) * 4;
  const fragment = ((b[at + 6]! & 0x1f) << 8) | b[at + 7]!;
  const proto = b[at + 9];
  if ((proto === 6 || proto === 17) && fragment === 0 && len >= ihl + 4) {
    for (let k = 0; k < 2; k++) {
      const t = b[at + ihl + k]!;
      b[at + ihl + k] = b[at + ihl + 2 + k]!;
      b[at + ihl + 2 + k] = t;
    }
  }
}

let tun: TunDevice;
try {
  tun = TunDevice.open(name, { vnetHeader, batchSize });
} catch (error) {
  process.stderr.write(`tun-reflect: ${(error as Error).message}\n`);
  process.exit(1);
}
const header = vnetHeader ? VNET_HDR_LEN : 0;
tun.onPackets(
  (batch: PacketBatch) => {
    if (swap) {
      for (let i = 0; i < batch.count; i++) swapInPlace(batch.buffer, batch.offsets[i]! + header, batch.lengths[i]! - header);
    }
    tun.write(batch);
  },
  (error) => {
    process.stderr.write(`tun-reflect: ${error.message}\n`);
    tun.close();
    process.exitCode = 1;
  },
);
process.stdout.write(`ready ${tun.name}${vnetHeader ? " vnet-hdr" : ""}${swap ? " swap" : ""}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    const s = tun.stats;
    process.stderr.write(
      `tun-reflect: ${tun.name}: reflected ${s.packetsWritten} packets, ${s.bytesWritten} bytes, ${s.writeErrors} write errors, ` +
        `${s.polls} polls, ${s.batchesRead} batches, stopped by ${signal}\n`,
    );
    tun.close();
    process.exit(0);
  });
}
