import { ERROR_CODES, SurgeError, type ErrorCode } from '../errors.js';
import type { FlagApply, VerifyResult } from './flags.js';

/**
 * The outcome of a switch, degrade or restore: undefined when every step went through; when one
 * failed, SRG_FLAGS_PARTIAL naming what was and was not switched (or, when nothing was, the
 * failure's own code), with the snapshot to restore from in the hint.
 */
export function switchOutcome(result: FlagApply & { snapshotPath?: string | undefined }): SurgeError | undefined {
  const f = result.failure;
  if (!f) return undefined;
  const restore = result.snapshotPath ? `Put everything back with \`surgectl flags restore ${result.snapshotPath}\` once the flag server answers again.` : 'Rerun the command once the flag server answers again: flags already switched are skipped.';
  if (result.switched.length === 0) {
    const code: ErrorCode = f.code in ERROR_CODES ? (f.code as ErrorCode) : 'SRG_FLAGS_API';
    return new SurgeError(code, `Nothing switched: ${f.message}`, { hint: restore, details: [`not switched: ${result.notSwitched.map((s) => s.name).join(', ')}`] });
  }
  return new SurgeError('SRG_FLAGS_PARTIAL', `Stopped part way at ${f.flag}: switched ${result.switched.map((s) => s.name).join(', ')}; not switched ${result.notSwitched.map((s) => s.name).join(', ')}`, {
    hint: restore,
    details: [`${f.flag}: ${f.message}`],
  });
}

/** SRG_FLAGS_NOT_PROPAGATED (exit 20) naming every instance that has not seen the change; undefined when all have. */
export function verifyOutcome(result: VerifyResult): SurgeError | undefined {
  if (result.propagated) return undefined;
  const behind = result.instances.filter((i) => !i.upToDate);
  return new SurgeError('SRG_FLAGS_NOT_PROPAGATED', `${behind.length} of ${result.instances.length} instance(s) have not seen the flag values of set '${result.set}' within ${result.timeoutMs} ms`, {
    details: behind.map((i) => `${i.instance ?? i.url}: ${[...i.stale.map((s) => `${s.name} is ${s.actual === null ? 'unknown' : s.actual ? 'on' : 'off'}, expected ${s.expected ? 'on' : 'off'}`), ...(i.problem ? [i.problem] : [])].join('; ')}`),
    hint: 'A stack on Unleash picks a change up on its next refresh (unleash-client refreshInterval); wait longer with --timeout, or check its connection to the flag server.',
  });
}
