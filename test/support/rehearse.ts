import { connect } from 'node:net';
import type { RehearsalReport } from '../../src/rehearse/report.js';

/** True when nothing listens on the URL's port any more (the connection is refused). */
export function portClosed(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}

/** Every restore check of a report, as one object for a readable assertion. */
export function restoreOf(r: RehearsalReport): Record<string, unknown> {
  return { ...r.restore, gate: r.gates.find((g) => g.id === 'restored')?.status };
}
