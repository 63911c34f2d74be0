import { prepareZXingModule, readBarcodes } from "zxing-wasm/reader";
// Served by us with the app's other assets (hashed, immutable): never fetched from a CDN.
import wasmUrl from "zxing-wasm/reader/zxing_reader.wasm?url";

const locateFile = (path: string, prefix: string) => (path.endsWith(".wasm") ? wasmUrl : prefix + path);
let loading: Promise<unknown> | undefined;

/**
 * Fetches and compiles the decoder's WebAssembly now (the scanner calls it on opening). A failed attempt (the network
 * already gone) is forgotten, so that the next call tries again: the library reuses a module only for equal
 * overrides, and each attempt brings a function of its own.
 */
export function ready(): Promise<unknown> {
  loading ??= prepareZXingModule({
    overrides: { locateFile: (path: string, prefix: string) => locateFile(path, prefix) },
    fireImmediately: true,
  }).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** The text of the QR code in the frame, if there is one (QR only: one format is faster and never misreads a label). */
export async function decodeQr(frame: ImageData): Promise<string | undefined> {
  await ready();
  const [found] = await readBarcodes(frame, { formats: ["QRCode"], maxNumberOfSymbols: 1, tryHarder: true });
  return found?.isValid ? found.text : undefined;
}
