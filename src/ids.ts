// Finding a row by id. Rows are numbered globally across shards (shard by shard, in the order
// they were appended). Two representations, chosen by what the ids look like:
//
// - sorted: every stored id (live or removed) is larger than the one before it, which is what
//   default ids, ascending explicit ids, removals and compaction all keep. A lookup is a binary
//   search over the ids the shards already store (O(1) when ids equal rows): no memory at all.
// - hashed: anything else (an upsert that moves an id to the end, an id added out of order).
//   An open-addressing table id → global row of the live rows, 8 bytes a slot, at most 3/4 full.

const EMPTY = 0xffffffff; // a global row that never exists (rows stay below 2^32 − 1)

export interface RowSource {
  /** Rows appended so far, live or removed, over every shard. */
  readonly rows: number;
  /** The id stored at global row `row`. */
  idAt(row: number): number;
  /** Whether global row `row` is live. */
  isLive(row: number): boolean;
}

export class IdMap {
  private keys: Uint32Array | undefined;
  private values: Uint32Array | undefined;
  private used = 0;
  /** One past the largest id ever stored: where default ids continue. */
  nextId = 0;
  /** Every stored id equals its global row (default ids, no compaction has moved them). */
  private dense = true;

  constructor(private readonly source: RowSource) {}

  /** True while every stored id equals its global row: then `find(id)` is `id` if live. */
  get isDense(): boolean {
    return this.dense;
  }

  /** Bytes the map holds (0 while ids are sorted). */
  get bytes(): number {
    return this.keys === undefined ? 0 : this.keys.byteLength + this.values!.byteLength;
  }

  /** Live ids in the hash table, or undefined while ids are sorted (a loaded index checks it against its live rows). */
  get hashedCount(): number | undefined {
    return this.keys === undefined ? undefined : this.used;
  }

  /** The live global row with `id`, or −1. */
  find(id: number): number {
    if (this.dense) return id < this.source.rows && this.source.isLive(id) ? id : -1;
    if (this.keys === undefined) {
      const row = this.sortedFind(id);
      return row >= 0 && this.source.isLive(row) ? row : -1;
    }
    const mask = this.keys.length - 1;
    for (let slot = hash(id) & mask; ; slot = (slot + 1) & mask) {
      const value = this.values![slot];
      if (value === EMPTY) return -1;
      if (this.keys[slot] === id) return value;
    }
  }

  /**
   * Records rows appended at global rows `first …` with `ids` (already checked: none is live in
   * the index). Call after the rows are committed.
   */
  appended(ids: Uint32Array, first: number): void {
    let ascending = this.keys === undefined;
    let previous = first === 0 ? -1 : this.nextId - 1;
    for (let i = 0; i < ids.length && this.dense; i++) this.dense = ids[i] === first + i;
    for (const id of ids) {
      if (id <= previous) ascending = false;
      previous = Math.max(previous, id);
      if (id >= this.nextId) this.nextId = id + 1;
    }
    if (ascending) return; // still sorted (nextId was the largest id, and it was stored last)
    if (this.keys === undefined) {
      this.rebuild(); // every live row, including the new ones
      return;
    }
    ids.forEach((id, i) => this.insert(id, first + i));
  }

  /** Forgets `id` (its row was removed). */
  removed(id: number): void {
    if (this.keys === undefined) return; // the live bitmap already says it
    const mask = this.keys.length - 1;
    let slot = hash(id) & mask;
    while (this.values![slot] !== EMPTY && this.keys[slot] !== id) slot = (slot + 1) & mask;
    if (this.values![slot] === EMPTY) return;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let hole = slot;
    for (let next = (hole + 1) & mask; this.values![next] !== EMPTY; next = (next + 1) & mask) {
      const home = hash(this.keys[next]) & mask;
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        this.keys[hole] = this.keys[next];
        this.values![hole] = this.values![next];
        hole = next;
      }
    }
    this.values![hole] = EMPTY;
    this.used--;
  }

  /** Rebuilds from the rows as they are now (after a compaction renumbered them). */
  rebuild(): void {
    const { rows } = this.source;
    let sorted = true;
    for (let row = 1; row < rows && sorted; row++) sorted = this.source.idAt(row) > this.source.idAt(row - 1);
    this.dense = sorted && (rows === 0 || this.source.idAt(rows - 1) === rows - 1);
    this.keys = undefined;
    this.values = undefined;
    this.used = 0;
    if (sorted) return;
    let live = 0;
    for (let row = 0; row < rows; row++) if (this.source.isLive(row)) live++;
    this.allocate(live);
    for (let row = 0; row < rows; row++) if (this.source.isLive(row)) this.insert(this.source.idAt(row), row);
  }

  private sortedFind(id: number): number {
    const { rows } = this.source;
    if (id < rows && this.source.idAt(id) === id) return id;
    let lo = 0;
    let hi = rows - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.source.idAt(mid);
      if (at === id) return mid;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private allocate(entries: number): void {
    let capacity = 16;
    while (capacity * 3 < entries * 4 + 4) capacity *= 2;
    this.keys = new Uint32Array(capacity);
    this.values = new Uint32Array(capacity).fill(EMPTY);
    this.used = 0;
  }

  private insert(id: number, row: number): void {
    if ((this.used + 1) * 4 > this.keys!.length * 3) {
      const { keys, values } = this;
      this.allocate(this.used * 2 + 1);
      keys!.forEach((key, slot) => {
        if (values![slot] !== EMPTY) this.insert(key, values![slot]);
      });
    }
    const mask = this.keys!.length - 1;
    let slot = hash(id) & mask;
    while (this.values![slot] !== EMPTY && this.keys![slot] !== id) slot = (slot + 1) & mask;
    if (this.values![slot] === EMPTY) this.used++;
    this.keys![slot] = id;
    this.values![slot] = row;
  }
}

/** murmur3's finalizer: every bit of the id reaches the low bits that pick a slot. */
function hash(id: number): number {
  let h = id ^ (id >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
