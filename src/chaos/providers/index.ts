import { CHAOS_MESH_FUNCS } from './chaos-mesh.js';
import { KUBERNETES_FUNCS } from './kubernetes.js';
import { STACK_FUNCS } from './stack.js';
import type { FuncTable } from './types.js';

export type ProviderType = 'stack' | 'kubernetes' | 'chaos-mesh';

/** Every provider function an experiment may name, by provider type (the `http` provider has no functions). */
export const PROVIDERS: Readonly<Record<ProviderType, FuncTable>> = {
  stack: STACK_FUNCS,
  kubernetes: KUBERNETES_FUNCS,
  'chaos-mesh': CHAOS_MESH_FUNCS,
};

export type { ChaosTargets, FuncSpec, ProviderContext } from './types.js';
