// The command line every lab service takes: PORT [ADDRESS]. A service prints "ready <kind> ..."
// once it listens (the runner waits for that line) and reports peers as address:port.
export function listenArgs(kind: string): { port: number; address: string } {
  const port = Number(process.argv[2]);
  const address = process.argv[3] ?? "0.0.0.0";
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`lab ${kind} service: usage: ${kind}.ts PORT [ADDRESS] (got ${process.argv.slice(2).join(" ")})\n`);
    process.exit(2);
  }
  return { port, address };
}

export function peerText(address: string | undefined, port: number | undefined): string {
  return `${(address ?? "?").replace(/^::ffff:/, "")}:${port ?? 0}`;
}

export function announce(kind: string, address: string, port: number): void {
  process.stdout.write(`ready ${kind} ${address}:${port}\n`);
}
