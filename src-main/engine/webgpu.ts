import type { GpuAdapter } from '../contract/messages';

export { adapterLabel } from '../contract/backend-labels';

/**
 * WebGPU in plain Node: the optional `webgpu` package (Dawn's Node binding, prebuilt for
 * linux-x64, darwin and win32 inside the npm package) provides `navigator.gpu`, on which
 * @tensorflow/tfjs-backend-webgpu trains through Vulkan, Metal or D3D12 — any GPU, no CUDA.
 *
 * The adapter is requested here first, before tfjs sees it, so that a software one (a CPU
 * rasteriser such as SwiftShader, which trains a cnn epoch far slower than our wasm kernels) is
 * never picked by 'auto', and so that the badge can name what the run is on.
 */

/** The parts of Dawn's GPUAdapterInfo we read (vendor strings are lower case: 'google'). */
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface WebGpuPackage {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** Names of CPU implementations of Vulkan, Metal-less GL and D3D12. */
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render/i;

export function describeAdapterInfo(info: AdapterInfoLike, fallback = false): GpuAdapter {
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const description = info.description || info.device || '';
  const software =
    fallback ||
    info.isFallbackAdapter === true ||
    SOFTWARE_NAMES.test([vendor, architecture, info.device ?? '', description].join(' '));
  return { vendor, architecture, description, software };
}

// Dynamic import through a variable so bundlers leave the optional native package alone.
const importOptional = (pkg: string): Promise<unknown> => import(/* @vite-ignore */ pkg);

let installed: Promise<GpuLike> | null = null;

/**
 * Gives this process a `navigator.gpu` from Dawn (once). tfjs-backend-webgpu registers itself
 * only if navigator.gpu exists when it is imported, so this runs first.
 */
export function installNavigatorGpu(): Promise<GpuLike> {
  installed ??= (async () => {
    const webgpu = (await importOptional('webgpu')) as WebGpuPackage;
    const global = globalThis as Record<string, unknown>;
    // GPUBufferUsage, GPUMapMode, …: tfjs uses them as globals, as a browser has them.
    for (const [name, value] of Object.entries(webgpu.globals)) global[name] ??= value;
    const gpu = webgpu.create([]);
    const navigator = global.navigator as object | undefined;
    // Node 21+ (and Electron's utility process) has a navigator without gpu; Node 20 has none.
    if (navigator) Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
    else global.navigator = { gpu };
    return gpu;
  })();
  installed.catch(() => (installed = null));
  return installed;
}

/** The adapter tfjs will get (it asks for 'high-performance' too), or why there is none. */
export async function requestAdapter(): Promise<GpuAdapter> {
  const gpu = await installNavigatorGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    throw new Error(
      'no WebGPU adapter: no Vulkan, Metal or D3D12 driver found (Linux needs libvulkan1 and a GPU driver)',
    );
  return describeAdapterInfo(adapter.info ?? {}, adapter.isFallbackAdapter === true);
}

/** Registers tfjs' webgpu backend; call after installNavigatorGpu. */
export async function importTfjsWebGpu(): Promise<void> {
  await importOptional('@tensorflow/tfjs-backend-webgpu');
}
