/* global process */
// The intake ceiling: a bare fastify endpoint that parses the same JSON and answers 202 without
// validation, storage or anything else. Prints {"url": ...} and runs until SIGTERM.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
let n = 0;
app.post('/v1/orders', async (req, reply) => {
  const id = `ord_${++n}`;
  return reply.code(202).send({ orderId: id, status: 'accepted', statusUrl: `/v1/orders/${id}`, queuePosition: 1, estimatedWaitMs: null });
});
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${app.server.address().port}` }) + '\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
