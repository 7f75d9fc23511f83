// `kite-plugin build` bundles `.wasm` imports as their bytes (esbuild's binary loader).
declare module '*.wasm' {
  const bytes: Uint8Array
  export default bytes
}
