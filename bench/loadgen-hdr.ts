/**
 * npm run bench:loadgen-hdr — which hdr-histogram-js build records faster: the JS one or the
 * WebAssembly one. The engine records one value per request, so this is its hot path.
 */
import { build, initWebAssembly } from 'hdr-histogram-js';

const N = Number(process.env.BENCH_VALUES ?? 2_000_000);
const values = Float64Array.from({ length: 4096 }, () => 50 + Math.floor(Math.random() * 50_000));

function run(label: string, useWebAssembly: boolean): void {
  const h = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, useWebAssembly });
  for (let i = 0; i < 100_000; i++) h.recordValue(values[i & 4095]!); // warm-up
  h.reset();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) h.recordValue(values[i & 4095]!);
  const ns = Number(process.hrtime.bigint() - t0);
  const p = process.hrtime.bigint();
  const p99 = h.getValueAtPercentile(99);
  const pns = Number(process.hrtime.bigint() - p);
  console.log(`${label.padEnd(5)} recordValue ${(ns / N).toFixed(1)} ns/value · p99 query ${(pns / 1000).toFixed(0)} µs (p99=${p99})`);
  h.destroy();
}

await initWebAssembly();
run('js', false);
run('wasm', true);
run('js', false);
run('wasm', true);
