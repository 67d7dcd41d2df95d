// What a .wasm import is where the workerd entry runs: a precompiled module (workerd's
// "wasm" modules, wrangler's CompiledWasm rule).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
