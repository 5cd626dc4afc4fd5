import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as MstlModule from '@bsull/augurs/mstl';
import type * as EtsModule from '@bsull/augurs/ets';
import type * as ProphetModule from '@bsull/augurs/prophet';
import type { ProphetOptimizer } from '@bsull/augurs/prophet';

/**
 * Loads augurs' WASM modules once. Node has no fetch for file URLs, so the wasm bytes are read
 * from disk and handed to `initSync` (the way the augurs README describes for Node).
 */
let mstl: typeof MstlModule | undefined;
let ets: typeof EtsModule | undefined;

function wasmPath(subpath: string, file: string): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(`@bsull/augurs/${subpath}`)), file);
}

export async function loadMstl(): Promise<typeof MstlModule> {
  if (!mstl) {
    const mod = await import('@bsull/augurs/mstl');
    mod.initSync({ module: readFileSync(wasmPath('mstl', 'mstl_bg.wasm')) });
    mstl = mod;
  }
  return mstl;
}

export async function loadEts(): Promise<typeof EtsModule> {
  if (!ets) {
    const mod = await import('@bsull/augurs/ets');
    mod.initSync({ module: readFileSync(wasmPath('ets', 'ets_bg.wasm')) });
    ets = mod;
  }
  return ets;
}

let prophet: { mod: typeof ProphetModule; optimizer: ProphetOptimizer } | undefined;

/**
 * augurs' Prophet plus the Stan optimizer it needs (@bsull/augurs-prophet-wasmstan, a WASM
 * component that reads its .wasm files from disk on Node).
 */
export async function loadProphet(): Promise<{ mod: typeof ProphetModule; optimizer: ProphetOptimizer }> {
  if (!prophet) {
    const mod = await import('@bsull/augurs/prophet');
    mod.initSync({ module: readFileSync(wasmPath('prophet', 'prophet_bg.wasm')) });
    const { optimizer } = await import('@bsull/augurs-prophet-wasmstan');
    prophet = { mod, optimizer };
  }
  return prophet;
}
