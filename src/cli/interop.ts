// `quantvec import` and `quantvec export`: binary codes between quantvec's index files and faiss's
// IndexBinaryFlat / IndexBinaryIDMap files (src/file/faiss.ts), so an index built here can be
// searched by faiss and the other way round. Only binary codes cross: faiss binary indexes hold
// nothing else.

import { parseArgs } from "node:util";
import { type FaissBinaryIndex, readFaissBinary, writeFaissBinary } from "../file/faiss.js";
import { Index } from "../vector-index.js";
import { positionalArgs, requiredFlag } from "./flags.js";

const MAX_ID = 2n ** 32n - 1n;
/** Rows handed to addQuantized at once: bounds the copy it makes. */
const IMPORT_BATCH_ROWS = 1 << 16;

/**
 * A binary Index (rescore "none": the file has nothing to rescore with) holding a faiss file's
 * codes under its ids. Ids must fit quantvec's range (0 … 2^32 − 1) and be unique; IndexBinaryFlat
 * rows get 0 … n − 1, as in faiss.
 *
 * @throws RangeError naming the file and the row for an id out of range or given twice.
 */
export async function indexFromFaiss(faiss: FaissBinaryIndex, file: string, caller = "quantvec import"): Promise<Index> {
  const ids = new Uint32Array(faiss.count);
  if (faiss.ids === undefined) ids.forEach((_, row) => (ids[row] = row));
  else {
    const rowOfId = new Map<bigint, number>();
    faiss.ids.forEach((id, row) => {
      if (id < 0n || id > MAX_ID) {
        throw new RangeError(`${caller}: ${JSON.stringify(file)}: row ${row} has id ${id}; quantvec ids are integers from 0 to ${MAX_ID}`);
      }
      const first = rowOfId.get(id);
      if (first !== undefined) throw new RangeError(`${caller}: ${JSON.stringify(file)}: id ${id} is on rows ${first} and ${row}; quantvec ids are unique`);
      rowOfId.set(id, row);
      ids[row] = Number(id);
    });
  }
  const index = await Index.create({ dims: faiss.dims, precision: "binary", rescore: "none" });
  try {
    for (let first = 0; first < faiss.count; first += IMPORT_BATCH_ROWS) {
      const end = Math.min(faiss.count, first + IMPORT_BATCH_ROWS);
      index.addQuantized({ binary: faiss.codes.subarray(first * faiss.codeBytes, end * faiss.codeBytes) }, ids.subarray(first, end));
    }
  } catch (error) {
    index.dispose();
    throw error;
  }
  return index;
}

/** `quantvec import FAISS_FILE --out INDEX` */
export async function importCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: "string" } } });
  const [file] = positionalArgs("import", positionals, ["FAISS_FILE"]);
  const out = requiredFlag("import", "out", values.out, "INDEX (the quantvec index file to write)");
  const faiss = await readFaissBinary(file, { caller: "quantvec import" });
  const index = await indexFromFaiss(faiss, file);
  try {
    await index.save(out);
  } finally {
    index.dispose();
  }
  process.stdout.write(
    `imported ${faiss.count.toLocaleString("en-US")} codes of ${faiss.dims} bits (${faiss.kind}) from ${file} into ${out}\n` +
      "  a binary index without rescoring (a faiss binary index holds nothing to rescore with)\n",
  );
}

/**
 * Writes the binary codes of `index`'s live rows to `out` as a faiss file: IndexBinaryFlat when
 * their ids are 0 … n − 1 in row order, IndexBinaryIDMap otherwise. Codes of a dimension count
 * that is not a multiple of 8 are written as whole bytes (faiss's d rounded up; the padding bits
 * are zero, so Hamming distances are unchanged).
 */
export async function exportToFaiss(index: Index, out: string, caller = "quantvec export"): Promise<{ kind: string; count: number; dims: number; byteLength: number }> {
  const { ids, codes } = index.binaryCodes();
  const dims = 8 * Math.ceil(index.storedDims / 8);
  const written = await writeFaissBinary(out, { dims, count: ids.length, codes, ids }, { caller });
  return { kind: written.kind, count: ids.length, dims, byteLength: written.byteLength };
}

/** `quantvec export INDEX --faiss OUT` */
export async function exportCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { faiss: { type: "string" } } });
  const [file] = positionalArgs("export", positionals, ["INDEX"]);
  const out = requiredFlag("export", "faiss", values.faiss, "OUT (the faiss file to write)");
  // Only the binary codes are exported: the rescoring codes may stay in the file.
  const index = await Index.load(file, { rescoreFrom: "disk" });
  let written: Awaited<ReturnType<typeof exportToFaiss>>;
  try {
    written = await exportToFaiss(index, out);
  } finally {
    index.dispose();
  }
  const notes = [
    index.storedDims % 8 !== 0 ? `faiss's d is ${written.dims}: ${index.storedDims} bits rounded up to whole bytes (zero padding)` : undefined,
    index.rotation !== undefined || index.storedDims !== index.dims
      ? `the codes are of ${index.rotation ? "rotated, " : ""}${index.storedDims !== index.dims ? `truncated (${index.dims} → ${index.storedDims}) ` : ""}vectors: encode faiss's queries the same way`
      : undefined,
  ].filter((note) => note !== undefined);
  process.stdout.write(
    `exported ${written.count.toLocaleString("en-US")} binary codes of ${index.storedDims} bits from ${file} ` +
      `as a faiss ${written.kind} into ${out} (${written.byteLength.toLocaleString("en-US")} bytes)\n${notes.map((n) => `  ${n}\n`).join("")}`,
  );
}
