// quantvec: small, fast embedding search in any JavaScript runtime.
export { kernelPathDecided, ready } from "./wasm.js";
export type { ReadyOptions } from "./wasm.js";
export type { KernelPath, PathChoice, RelaxedPolicy } from "./relaxed.js";
export type { EmbeddingsInput, Matrix, Vector } from "./embeddings.js";
export { truncate } from "./matryoshka.js";
export { fitRotation, Rotation } from "./rotation.js";
export type { FitRotationOptions, RotationJSON, RotationMethod } from "./rotation.js";
export { calibrate, quantize } from "./quantize.js";
export type { Precision, Quantized, QuantizeOptions, Ranges, RangesInput } from "./quantize.js";
export type { CalibrateOptions } from "./quantize.js";
export type { TruncateOptions } from "./matryoshka.js";
export { Index } from "./vector-index.js";
export type { IndexOptions, RescorePrecision, ScanPrecision, SearchOptions, SearchResult } from "./vector-index.js";
export { KernelBuffer, kernels } from "./kernels.js";
export type { KernelName, TopK } from "./kernels.js";
export type { QueryInput } from "./embeddings.js";
export { TextIndex } from "./text-index.js";
export type { TextAddOptions, TextEmbedder, TextIndexOptions, TextKey, TextSearchHit, TextSearchOptions } from "./text-index.js";
