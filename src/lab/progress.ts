// What the runner is doing, while it does it: one status line that updates in place on a terminal,
// plain lines otherwise (logs, CI). Always on stderr, so --json output stays clean.
export class ProgressDisplay {
  private readonly tty: boolean;
  private shown = false;
  private readonly started = Date.now();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY === true;
  }

  update = (line: string): void => {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1).padStart(5);
    const text = `[${seconds}s] ${line}`;
    if (this.tty) {
      const width = (this.stream.columns ?? 100) - 1;
      this.stream.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.shown = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  };

  /** Clears the status line before other output. */
  done(): void {
    if (this.tty && this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
