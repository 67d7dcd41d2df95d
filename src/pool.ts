// Worker threads that scan rows of a shared WebAssembly.Memory: worker_threads in Node, Web
// Workers in browsers. Each worker instantiates the same compiled kernels over the same memory
// and runs src/scan.ts's runScan on the rows and heaps it is given; the owner merges the heaps.
//
// The worker's code is sent as source text (runScan plus a small message loop), so the pool
// needs no separate file to locate: it works from dist/, from a bundle, and from the TS sources
// under test alike.

import { runScan } from "./scan.js";
import type { KernelExports } from "./wasm.js";

/** What the pool needs of a worker, in Node and in browsers. */
interface Port {
  post(message: unknown): void;
  terminate(): void;
  /** Keep the process alive only while a scan is pending (Node). */
  hold(busy: boolean): void;
}

interface Slot {
  /** Set once the worker has been spawned. */
  port?: Port;
  /** Set once the worker has instantiated the kernels (then `ready` has resolved). */
  started: boolean;
  ready: Promise<void>;
  pending: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
}

type WorkerEvent = { type: "ready" } | { type: "done"; id: number } | { type: "error"; id?: number; message: string };

/**
 * The worker's whole program. It must stay self-contained: it runs from its source text, with
 * `runScan` defined beside it, and `port` is Node's parentPort (undefined in a Web Worker).
 * Messages: init { module, memory } → ready; scan { id, descs, memoryBytes } → done | error;
 * call { id, name, args } (one kernel export, for the bench's hardware reference) → done | error.
 */
function workerMain(scan: typeof runScan, port: import("node:worker_threads").MessagePort | undefined): void {
  const post = (message: unknown) => (port ? port.postMessage(message) : (self as unknown as Worker).postMessage(message));
  let memory: WebAssembly.Memory;
  let kernels: Parameters<typeof runScan>[0];
  const handle = (message: {
    type: string; id: number; module: WebAssembly.Module; memory: WebAssembly.Memory; descs: number[]; memoryBytes: number;
    name: string; args: number[];
  }) => {
    try {
      if (message.type === "init") {
        memory = message.memory;
        kernels = new WebAssembly.Instance(message.module, { env: { memory } }).exports as unknown as typeof kernels;
        post({ type: "ready" });
      } else if (message.type === "scan") {
        // Shared memory grows in place; make sure this thread sees all of it before reading.
        if (memory.buffer.byteLength < message.memoryBytes) {
          throw new Error(`worker sees ${memory.buffer.byteLength} bytes of memory, the scan needs ${message.memoryBytes}`);
        }
        scan(kernels, message.descs);
        post({ type: "done", id: message.id });
      } else if (message.type === "call") {
        (kernels as unknown as Record<string, (...args: number[]) => unknown>)[message.name](...message.args);
        post({ type: "done", id: message.id });
      }
    } catch (error) {
      post({ type: "error", id: message.id, message: String((error as Error)?.message ?? error) });
    }
  };
  if (port) port.on("message", handle);
  else (self as unknown as Worker).onmessage = (event: MessageEvent) => handle(event.data);
}

const WORKER_BODY = `const runScan = ${runScan.toString()};\nconst workerMain = ${workerMain.toString()};\n`;
// Node runs it as an ES module from a data: URL (an eval worker is CommonJS or ESM depending on
// the parent, so neither `require` nor `import` would work in both); browsers from a blob: URL.
const NODE_SOURCE = `import { parentPort } from "node:worker_threads";\n${WORKER_BODY}workerMain(runScan, parentPort);\n`;
const BROWSER_SOURCE = `"use strict";\n${WORKER_BODY}workerMain(runScan, undefined);\n`;

const isNode = typeof process === "object" && typeof process.versions === "object" && !!process.versions.node;

/** Starts one worker running the worker program and wires its events to the callbacks. */
async function spawn(onMessage: (event: WorkerEvent) => void, onDeath: (reason: string) => void): Promise<Port> {
  if (isNode) {
    const specifier = "node:worker_threads"; // kept out of static imports: browsers have no such module
    const { Worker } = (await import(/* @vite-ignore */ specifier)) as typeof import("node:worker_threads");
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(NODE_SOURCE)}`));
    worker.unref();
    worker.on("message", onMessage);
    worker.on("error", (error) => onDeath(error.message));
    worker.on("exit", (code) => onDeath(`exited with code ${code}`));
    return {
      post: (message) => worker.postMessage(message),
      terminate: () => void worker.terminate(),
      hold: (busy) => (busy ? worker.ref() : worker.unref()),
    };
  }
  const url = URL.createObjectURL(new Blob([BROWSER_SOURCE], { type: "text/javascript" }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  worker.onmessage = (event) => onMessage(event.data as WorkerEvent);
  worker.onerror = (event) => onDeath(event.message || "error");
  return { post: (message) => worker.postMessage(message), terminate: () => worker.terminate(), hold: () => {} };
}

/** A fixed number of workers over one shared memory; a worker that dies is replaced. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
  ) {}

  /** Starts `size` workers and waits until each has instantiated the kernels. */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, size: number): Promise<WorkerPool> {
    const pool = new WorkerPool(module, memory);
    for (let i = 0; i < size; i++) pool.slots.push(pool.start(i));
    try {
      await Promise.all(pool.slots.map((slot) => slot.ready));
    } catch (error) {
      pool.terminate();
      throw error;
    }
    return pool;
  }

  /**
   * Runs the scan descriptors `descs` on worker `i`; rejects if the worker reports an error or
   * dies meanwhile. A started worker gets the message before this returns, so the caller can
   * scan its own share meanwhile: posting after an `await` would wait for the caller's share to
   * end first, and the two shares would run one after the other.
   */
  scan(i: number, descs: number[]): Promise<void> {
    return this.send(i, { type: "scan", descs, memoryBytes: this.memory.buffer.byteLength });
  }

  /** Calls the kernel export `name` with `args` on worker `i` (the bench's hardware reference). */
  call(i: number, name: keyof KernelExports, args: number[]): Promise<void> {
    return this.send(i, { type: "call", name, args });
  }

  private send(i: number, message: { type: "scan" | "call" } & Record<string, unknown>): Promise<void> {
    const slot = this.slots[i];
    if (this.closed) return Promise.reject(new Error("quantvec: the index was disposed while a search was running"));
    if (!slot.started) return slot.ready.then(() => this.send(i, message));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.port!.hold(true);
      slot.port!.post({ ...message, id });
    });
  }

  /** Stops every worker; pending scans reject. */
  terminate(): void {
    this.closed = true;
    for (const slot of this.slots) {
      slot.port?.terminate();
      this.fail(slot, new Error("quantvec: the index was disposed while a search was running"));
    }
  }

  /** Test access: the port of worker `i`. */
  workerPort(i: number): Pick<Port, "terminate"> {
    return this.slots[i].port!;
  }

  private fail(slot: Slot, error: Error): void {
    for (const { reject } of slot.pending.values()) reject(error);
    slot.pending.clear();
    slot.port?.hold(false);
  }

  private start(i: number): Slot {
    const slot: Slot = { started: false, ready: Promise.resolve(), pending: new Map() };
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (event: WorkerEvent) => {
        if (event.type === "ready") {
          slot.started = true;
          resolve();
        } else if (event.type === "done" || event.id !== undefined) {
          const entry = slot.pending.get(event.id!);
          slot.pending.delete(event.id!);
          if (slot.pending.size === 0) slot.port?.hold(false);
          if (event.type === "done") entry?.resolve();
          else entry?.reject(new Error(`quantvec: worker ${i} failed a scan: ${event.message}`));
        } else if (!slot.started) {
          reject(new Error(`quantvec: worker ${i} could not start: ${event.message}`));
        }
      };
      const onDeath = (reason: string) => {
        if (this.closed || this.slots[i] !== slot) return;
        if (!slot.started) {
          reject(new Error(`quantvec: worker ${i} could not start: ${reason}`));
          return;
        }
        // Reject what it was doing, then replace it so that the next search works.
        this.fail(slot, new Error(`quantvec: worker ${i} died (${reason}); the search was abandoned and the worker replaced`));
        this.slots[i] = this.start(i);
        this.slots[i].ready.catch(() => {});
      };
      spawn(onMessage, onDeath).then((port) => {
        slot.port = port;
        if (this.closed) port.terminate();
        else port.post({ type: "init", module: this.module, memory: this.memory });
      }, reject);
    });
    return slot;
  }
}
