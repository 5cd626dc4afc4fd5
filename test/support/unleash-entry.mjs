/* global process, console */
// Runs a real unleash-server for the tests (started by test/support/unleash-server.ts in its own
// process, so its logs and its database pool never mix with the test process).
// Settings come from env: UNLEASH_TEST_PORT, UNLEASH_TEST_DB; tokens from INIT_ADMIN_API_TOKENS /
// INIT_CLIENT_API_TOKENS, which unleash-server reads itself.
import unleash from 'unleash-server';

const port = Number(process.env.UNLEASH_TEST_PORT);
const database = process.env.UNLEASH_TEST_DB;
if (!port || !database) {
  console.error('unleash-entry: UNLEASH_TEST_PORT and UNLEASH_TEST_DB are required');
  process.exit(2);
}

const server = await unleash.start({
  db: { host: '127.0.0.1', port: 5432, user: 'postgres', password: '', database, ssl: false, pool: { min: 0, max: 4 } },
  server: { host: '127.0.0.1', port, gracefulShutdownEnable: false, enableRequestLogger: false },
  authentication: { type: 'open-source', enableApiToken: true, createAdminUser: false },
  logLevel: 'warn',
  versionCheck: { enable: false },
  telemetry: false,
  // Uncached client reads: a stack under test sees a flip on its next poll, not after the
  // server's cache (1 h by default) expires.
  clientFeatureCaching: { enabled: false },
});

// SIGTERM from the harness: close the HTTP server and the DB pool so DROP DATABASE can follow.
const shutdown = async () => {
  try {
    await server.stop();
  } finally {
    process.exit(0);
  }
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
