// Progress on stderr: a redrawn bar on a terminal, plain stage lines otherwise (CI logs, pipes).
// Small enough to own: a progress library would become a runtime dependency of every install.

const WIDTH = 28;

export class Progress {
  private lastDraw = 0;
  private drawn = false;
  /** When the current count started, and when its last quiet line was written. */
  private counting: { label: string; since: number; lastLine: number } | undefined;
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

  /**
   * Progress through `total` items with their rate and the time left: the bar on a terminal; a
   * line every 10 seconds (and at the end) elsewhere. A new `label` restarts the rate.
   */
  count(done: number, total: number, label: string, unit = "rows"): void {
    if (this.quiet) return;
    const now = performance.now();
    if (this.counting?.label !== label) this.counting = { label, since: now, lastLine: now };
    const seconds = (now - this.counting.since) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 && done < total ? ` · ETA ${formatSeconds((total - done) / rate)}` : "";
    const text = `${label} ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} ${unit}` +
      `${rate > 0 ? ` · ${Math.round(rate).toLocaleString("en-US")} ${unit}/s` : ""}${eta}`;
    if (this.interactive) {
      this.update(done, total, text);
      return;
    }
    if (done >= total || now - this.counting.lastLine >= 10_000) {
      this.counting.lastLine = now;
      this.stage(text);
    }
  }

  /** Removes the bar so that the next line starts clean. */
  clear(): void {
    if (!this.drawn) return;
    this.stream.write("\r\x1b[K");
    this.drawn = false;
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}
