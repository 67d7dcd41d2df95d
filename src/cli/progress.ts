// Progress on stderr: a redrawn bar on a terminal, plain stage lines otherwise (CI logs, pipes).
// Small enough to own: a progress library would become a runtime dependency of every install.

const WIDTH = 28;

export class Progress {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = performance.now();

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly interactive: boolean = Boolean(stream.isTTY) && !process.env.CI,
    private readonly quiet = false,
  ) {}

  /** Starts a named stage: a line of its own. */
  stage(label: string): void {
    if (this.quiet) return;
    this.clear();
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1).padStart(6);
    this.stream.write(`${seconds}s  ${label}\n`);
  }

  /** Redraws the bar (at most ten times a second) on a terminal; silent elsewhere. */
  update(done: number, total: number, label = ""): void {
    if (this.quiet || !this.interactive) return;
    const now = performance.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const share = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(share * WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(WIDTH - filled)}`;
    const text = `  ${bar} ${String(Math.round(share * 100)).padStart(3)}%  ${label}`;
    this.stream.write(`\r${text.slice(0, (this.stream.columns ?? 100) - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Removes the bar so that the next line starts clean. */
  clear(): void {
    if (!this.drawn) return;
    this.stream.write("\r\x1b[K");
    this.drawn = false;
  }
}
