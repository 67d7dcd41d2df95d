// Plain-JavaScript baselines for the benchmark: the best-known pure-JS versions of each scan,
// with the same top-k semantics as the kernels (higher key first, ties by smaller row).

/** Keeps the k best (higher key, then smaller row); a threshold test skips most rows. */
class TopK {
  private readonly keys: number[] = [];
  private readonly rows: number[] = [];
  private worst = 0;
  threshold = -Infinity;

  constructor(private readonly k: number) {}

  offer(key: number, row: number): void {
    if (this.keys.length < this.k) {
      this.keys.push(key);
      this.rows.push(row);
    } else {
      const w = this.worst;
      if (key < this.keys[w] || (key === this.keys[w] && row > this.rows[w])) return;
      this.keys[w] = key;
      this.rows[w] = row;
    }
    if (this.keys.length < this.k) return;
    // k is small (10): a linear scan for the new worst is cheaper than a heap here.
    let w = 0;
    for (let i = 1; i < this.keys.length; i++) {
      if (this.keys[i] < this.keys[w] || (this.keys[i] === this.keys[w] && this.rows[i] > this.rows[w])) w = i;
    }
    this.worst = w;
    this.threshold = this.keys[w];
  }

  /** Rows, best first. */
  best(): number[] {
    return this.rows
      .map((row, i) => [this.keys[i], row] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .map(([, row]) => row);
  }
}

/** Hamming top-k with a 32-bit SWAR popcount (about 3× faster than a byte lookup table in V8). */
export function hammingTopK(query: Uint8Array, codes: Uint8Array, k: number): number[] {
  const bytes = query.length;
  const words = bytes >> 2;
  const q = new Uint32Array(query.buffer, query.byteOffset, words);
  const c = new Uint32Array(codes.buffer, codes.byteOffset, codes.byteLength >> 2);
  const count = codes.length / bytes;
  const top = new TopK(k);
  for (let row = 0, at = 0; row < count; row++, at += words) {
    let distance = 0;
    for (let w = 0; w < words; w++) {
      let v = q[w] ^ c[at + w];
      v -= (v >>> 1) & 0x55555555;
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      distance += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
    }
    if (-distance >= top.threshold) top.offer(-distance, row);
  }
  return top.best();
}

/** Dot-product top-k over int16/int8/float32 typed arrays, unrolled by four (dims % 4 == 0). */
export function dotTopK(query: Int16Array | Int8Array | Float32Array, rows: Int8Array | Float32Array, k: number): number[] {
  const dims = query.length;
  const count = rows.length / dims;
  const top = new TopK(k);
  for (let row = 0, at = 0; row < count; row++, at += dims) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < dims; i += 4) {
      s0 += query[i] * rows[at + i];
      s1 += query[i + 1] * rows[at + i + 1];
      s2 += query[i + 2] * rows[at + i + 2];
      s3 += query[i + 3] * rows[at + i + 3];
    }
    const score = s0 + s1 + s2 + s3;
    if (score >= top.threshold) top.offer(score, row);
  }
  return top.best();
}

/** Top-k of a scoring function called once per row (for per-pair peers such as simsimd). */
export function perPairTopK(count: number, k: number, score: (row: number) => number): number[] {
  const top = new TopK(k);
  for (let row = 0; row < count; row++) {
    const key = score(row);
    if (key >= top.threshold) top.offer(key, row);
  }
  return top.best();
}
