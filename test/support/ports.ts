import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on right now (taken, then released), for a server the test
 * starts itself or for a "stopped" one. Another process could take it in between; the servers
 * that use it fail loudly if so.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
