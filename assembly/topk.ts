// Bounded top-k selection kept in linear memory, shared by every `*_topk` scan.
//
// Layout at `heap` (all little-endian, 16-byte header):
//   +0  i32 size      entries currently held (0..capacity)
//   +4  i32 capacity  k, at least 1 (validated by the caller)
//   +16 i32 keys[capacity]   higher is better
//   then u32 ids[capacity]   the caller's ids, used to break ties
//   then u32 rows[capacity]  storage row of each entry, so candidates can be rescored
// The array is a binary min-heap on "worse": the root is the entry that leaves first.
// An entry is worse when its key is lower, or the keys are equal and its id is larger,
// so ties always go to the smaller id, whatever order the rows are scanned in.
// The heap persists between calls: scanning a corpus segment by segment into one heap
// gives the same result as scanning it in one piece.

export const HEAP_HEADER: usize = 16;

@inline export function heapKeys(heap: usize): usize {
  return heap + HEAP_HEADER;
}

@inline export function heapIds(heap: usize, capacity: i32): usize {
  return heap + HEAP_HEADER + (<usize>capacity << 2);
}

@inline export function heapRows(heap: usize, capacity: i32): usize {
  return heap + HEAP_HEADER + (<usize>capacity << 3);
}

@inline function worse(keyA: i32, idA: u32, keyB: i32, idB: u32): bool {
  return keyA < keyB || (keyA == keyB && idA > idB);
}

/** Maps a float to an i32 with the same order (for finite values), so f32 scores share the i32 heap. */
@inline export function orderedKeyF32(score: f32): i32 {
  const bits = reinterpret<i32>(score + 0.0); // + 0.0 turns -0 into +0: equal scores, equal keys
  return bits ^ ((bits >> 31) & 0x7fffffff);
}

/** orderedKeyF32 for four lanes at once. */
@inline export function orderedKeysF32x4(scores: v128): v128 {
  const bits = f32x4.add(scores, f32x4.splat(0)); // -0 → +0, as in orderedKeyF32
  return v128.xor(bits, v128.and(i32x4.shr_s(bits, 31), i32x4.splat(0x7fffffff)));
}

/**
 * Offers (key, id, row) to the heap; returns the new size. The caller has already checked
 * that the candidate beats the current root or that the heap is not full.
 */
export function heapOffer(heap: usize, key: i32, id: u32, row: u32): i32 {
  const size = load<i32>(heap);
  const capacity = load<i32>(heap, 4);
  const keys = heapKeys(heap);
  const ids = heapIds(heap, capacity);
  const rows = heapRows(heap, capacity);
  if (size < capacity) {
    // Sift up from the new leaf.
    let child = size;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      const parentKey = load<i32>(keys + (<usize>parent << 2));
      const parentId = load<u32>(ids + (<usize>parent << 2));
      if (!worse(key, id, parentKey, parentId)) break;
      store<i32>(keys + (<usize>child << 2), parentKey);
      store<u32>(ids + (<usize>child << 2), parentId);
      store<u32>(rows + (<usize>child << 2), load<u32>(rows + (<usize>parent << 2)));
      child = parent;
    }
    store<i32>(keys + (<usize>child << 2), key);
    store<u32>(ids + (<usize>child << 2), id);
    store<u32>(rows + (<usize>child << 2), row);
    store<i32>(heap, size + 1);
    return size + 1;
  }
  // Replace the root and sift down.
  let parent = 0;
  while (true) {
    let child = (parent << 1) + 1;
    if (child >= size) break;
    let childKey = load<i32>(keys + (<usize>child << 2));
    let childId = load<u32>(ids + (<usize>child << 2));
    const right = child + 1;
    if (right < size) {
      const rightKey = load<i32>(keys + (<usize>right << 2));
      const rightId = load<u32>(ids + (<usize>right << 2));
      if (worse(rightKey, rightId, childKey, childId)) {
        child = right;
        childKey = rightKey;
        childId = rightId;
      }
    }
    if (!worse(childKey, childId, key, id)) break;
    store<i32>(keys + (<usize>parent << 2), childKey);
    store<u32>(ids + (<usize>parent << 2), childId);
    store<u32>(rows + (<usize>parent << 2), load<u32>(rows + (<usize>child << 2)));
    parent = child;
  }
  store<i32>(keys + (<usize>parent << 2), key);
  store<u32>(ids + (<usize>parent << 2), id);
  store<u32>(rows + (<usize>parent << 2), row);
  return size;
}
