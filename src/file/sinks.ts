// Where a container is written to: a Node file path (a temporary file in the same folder,
// flushed, then renamed over the path, so the path only ever holds a complete file) or a
// WritableStream. Small writes are gathered into 1 MiB pieces; large ones pass straight through.

/**
 * Receives a file's bytes in order.
 *
 * @example
 * const sink = await fileSink("/data/index.qv");
 * try { await sink.write(bytes); await sink.finish(); } catch (error) { await sink.abort(error); throw error; }
 */
export interface Sink {
  write(bytes: Uint8Array): Promise<void>;
  /** Makes everything written durable and visible at the target. */
  finish(): Promise<void>;
  /** Gives up: leaves the target as it was. Never throws. */
  abort(reason: unknown): Promise<void>;
}

const STAGE_BYTES = 1 << 20;
/** Writes at least this long skip the staging buffer. */
const DIRECT_BYTES = 256 * 1024;

/** Gathers small writes into pieces of up to STAGE_BYTES for `emit`. */
class Stager {
  private stage: Uint8Array | undefined;
  private staged = 0;
  /**
   * @param fresh a new staging buffer per piece (the consumer may keep it), or one reused
   *   buffer (the consumer is done with it when emit resolves).
   * @param copyLarge large writes are copied too (the consumer may keep them, and the caller's
   *   bytes may change after the write returns).
   */
  constructor(private readonly emit: (bytes: Uint8Array) => Promise<void>, private readonly fresh: boolean, private readonly copyLarge: boolean) {}

  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length >= DIRECT_BYTES && !this.copyLarge) {
      await this.flush();
      await this.emit(bytes);
      return;
    }
    for (let at = 0; at < bytes.length;) {
      this.stage ??= new Uint8Array(STAGE_BYTES);
      const take = Math.min(STAGE_BYTES - this.staged, bytes.length - at);
      this.stage.set(bytes.subarray(at, at + take), this.staged);
      this.staged += take;
      at += take;
      if (this.staged === STAGE_BYTES) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.staged === 0 || this.stage === undefined) return;
    const piece = this.stage.subarray(0, this.staged);
    this.staged = 0;
    if (this.fresh) this.stage = undefined;
    await this.emit(piece);
  }
}

/**
 * A WritableStream target: every piece handed over is a fresh copy the stream may keep, so the
 * caller's buffers (views of WebAssembly memory, reused chunks) may change after each write.
 *
 * @param stream the target; locked until finish() or abort().
 * @returns the sink.
 * @example
 * const sink = streamSink(new WritableStream({ write: (chunk) => chunks.push(chunk) }));
 */
export function streamSink(stream: WritableStream<Uint8Array>): Sink {
  const writer = stream.getWriter();
  const stager = new Stager(async (bytes) => {
    await writer.ready;
    await writer.write(bytes);
  }, true, true);
  return {
    write: (bytes) => stager.write(bytes),
    async finish() {
      await stager.flush();
      await writer.close();
    },
    async abort(reason) {
      await writer.abort(reason).catch(() => {});
    },
  };
}

/**
 * A Node file target: writes go to `.<name>.<random>.tmp` beside `path`; finish() flushes it
 * (fsync), renames it over `path` and flushes the folder; abort() closes and removes it, so
 * `path` holds either its old content or the complete new file.
 *
 * @param path the file to write.
 * @returns the sink, with the temporary file open.
 * @throws (rejects) the OS error when the temporary file cannot be created.
 * @example
 * const sink = await fileSink("/data/index.qv");
 */
export async function fileSink(path: string): Promise<Sink> {
  const fsSpecifier = "node:fs/promises"; // not static imports: browsers have no such modules
  const pathSpecifier = "node:path";
  const fs = (await import(/* @vite-ignore */ fsSpecifier)) as typeof import("node:fs/promises");
  const paths = (await import(/* @vite-ignore */ pathSpecifier)) as typeof import("node:path");
  const folder = paths.dirname(path);
  const random = Math.floor(Math.random() * 2 ** 48).toString(36);
  const temporary = paths.join(folder, `.${paths.basename(path)}.${random}.tmp`);
  const handle = await fs.open(temporary, "wx");
  let position = 0;
  let open = true;
  const stager = new Stager(async (bytes) => {
    for (let done = 0; done < bytes.length;) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position);
      done += bytesWritten;
      position += bytesWritten;
    }
  }, false, false);
  const close = async () => {
    if (!open) return;
    open = false;
    await handle.close();
  };
  return {
    write: (bytes) => stager.write(bytes),
    async finish() {
      await stager.flush();
      await handle.sync();
      await close();
      await fs.rename(temporary, path);
      // The rename is durable once the folder is flushed; some systems cannot open a folder.
      const dir = await fs.open(folder, "r").catch(() => undefined);
      if (dir !== undefined) await dir.sync().catch(() => {}).finally(() => dir.close());
    },
    async abort() {
      await close().catch(() => {});
      await fs.unlink(temporary).catch(() => {});
    },
  };
}
