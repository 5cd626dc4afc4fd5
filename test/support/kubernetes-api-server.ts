import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A contract test server (HTTPS on loopback, self-signed) speaking the real Kubernetes HTTP API shapes for the calls surgectl makes
 * (PodList, Status errors, APIGroupList / APIResourceList discovery, custom objects), so the REAL
 * adapter on @kubernetes/client-node can be exercised without a cluster. Loopback only.
 */
export interface KubeApiServer {
  url: string;
  token: string;
  /** `namespace/name` -> pod object. */
  pods: Map<string, Record<string, unknown>>;
  /** `group/version/namespace/plural/name` -> object. */
  objects: Map<string, Record<string, unknown>>;
  /** Whether Chaos Mesh's CRDs are served. */
  chaosMesh: boolean;
  /** Every request, `METHOD path?query`. */
  requests: string[];
  /** Every custom object created, in order (kept after deletion). */
  created: Record<string, unknown>[];
  /** A kubeconfig for this server (context `contract`, namespace `shop`). */
  kubeconfig(): string;
  close(): Promise<void>;
}

export function pod(namespace: string, name: string, labels: Record<string, string>, ready = true): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, uid: `uid-${name}`, resourceVersion: '1' },
    spec: { containers: [{ name: 'app', image: 'shop/orders:1' }] },
    status: { phase: ready ? 'Running' : 'Pending', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const CHAOS_RESOURCES = ['podchaos', 'networkchaos'];
const KINDS: Record<string, string> = { podchaos: 'PodChaos', networkchaos: 'NetworkChaos' };

export async function startKubeApiServer(opts: { chaosMesh?: boolean; token?: string } = {}): Promise<KubeApiServer> {
  const state = {
    pods: new Map<string, Record<string, unknown>>(),
    objects: new Map<string, Record<string, unknown>>(),
    chaosMesh: opts.chaosMesh ?? false,
    requests: [] as string[],
    created: [] as Record<string, unknown>[],
  };
  const token = opts.token ?? 'contract-token-0123456789';
  let rv = 100;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    state.requests.push(`${method} ${url.pathname}${url.search}`);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) =>
      send(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
    if (req.headers.authorization !== `Bearer ${token}`) return status(401, 'Unauthorized', 'Unauthorized');
    const body = await readBody(req);
    const parts = url.pathname.split('/').filter(Boolean);

    // /api/v1/namespaces/{ns}/pods[/{name}]
    if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'namespaces' && parts[4] === 'pods') {
      const ns = parts[3] ?? '';
      const name = parts[5];
      if (method === 'GET' && name === undefined) {
        const selector = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((s) => s.split('='));
        const items = [...state.pods.values()].filter((p) => {
          const m = p.metadata as { namespace: string; labels: Record<string, string> };
          return m.namespace === ns && selector.every(([k, v]) => m.labels[k ?? ''] === v);
        });
        return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(rv) }, items });
      }
      if (method === 'DELETE' && name !== undefined) {
        const key = `${ns}/${name}`;
        const p = state.pods.get(key);
        if (!p) return status(404, 'NotFound', `pods "${name}" not found`);
        state.pods.delete(key);
        rv++;
        return send(200, p);
      }
    }
    if (method === 'GET' && url.pathname === '/apis') {
      const groups = [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }];
      if (state.chaosMesh) {
        const v = { groupVersion: 'chaos-mesh.org/v1alpha1', version: 'v1alpha1' };
        groups.push({ name: 'chaos-mesh.org', versions: [v], preferredVersion: v });
      }
      return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    // /apis/chaos-mesh.org/v1alpha1[/namespaces/{ns}/{plural}[/{name}]]
    if (parts[0] === 'apis' && parts[1] === 'chaos-mesh.org' && parts[2] === 'v1alpha1') {
      if (!state.chaosMesh) return status(404, 'NotFound', 'the server could not find the requested resource');
      if (parts.length === 3 && method === 'GET') {
        const resources = CHAOS_RESOURCES.flatMap((r) => [
          { name: r, singularName: r, namespaced: true, kind: KINDS[r], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
          { name: `${r}/status`, singularName: '', namespaced: true, kind: KINDS[r], verbs: ['get', 'patch', 'update'] },
        ]);
        return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'chaos-mesh.org/v1alpha1', resources });
      }
      const [, , , nsKey, ns, plural, name] = parts;
      if (nsKey === 'namespaces' && ns && plural && CHAOS_RESOURCES.includes(plural)) {
        if (method === 'POST' && name === undefined) {
          const obj = JSON.parse(body) as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
          if (obj.apiVersion !== 'chaos-mesh.org/v1alpha1' || obj.kind !== KINDS[plural]) {
            return status(400, 'BadRequest', `the API version in the data (${obj.apiVersion}) does not match the expected API version (chaos-mesh.org/v1alpha1) or kind ${obj.kind}`);
          }
          const objName = obj.metadata?.name;
          if (!objName) return status(422, 'Invalid', 'metadata.name: Required value');
          const key = `chaos-mesh.org/v1alpha1/${ns}/${plural}/${objName}`;
          if (state.objects.has(key)) return status(409, 'AlreadyExists', `${plural}.chaos-mesh.org "${objName}" already exists`);
          const stored = { ...obj, metadata: { ...obj.metadata, namespace: ns, uid: `uid-${++rv}`, resourceVersion: String(rv), creationTimestamp: new Date().toISOString() } };
          state.objects.set(key, stored);
          state.created.push(stored);
          return send(201, stored);
        }
        if (method === 'DELETE' && name !== undefined) {
          const key = `chaos-mesh.org/v1alpha1/${ns}/${plural}/${name}`;
          const existing = state.objects.get(key);
          if (!existing) return status(404, 'NotFound', `${plural}.chaos-mesh.org "${name}" not found`);
          state.objects.delete(key);
          return send(200, existing);
        }
      }
    }
    return status(404, 'NotFound', 'the server could not find the requested resource');
  };

  const tls = selfSignedCert();
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      res.writeHead(500);
      res.end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    get pods() {
      return state.pods;
    },
    get objects() {
      return state.objects;
    },
    get chaosMesh() {
      return state.chaosMesh;
    },
    set chaosMesh(v: boolean) {
      state.chaosMesh = v;
    },
    get requests() {
      return state.requests;
    },
    get created() {
      return state.created;
    },
    kubeconfig: () =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: contract`,
        `  cluster: {server: "${url}", certificate-authority-data: "${Buffer.from(tls.cert).toString('base64')}"}`,
        'users:',
        `- name: tester`,
        `  user: {token: "${token}"}`,
        'contexts:',
        '- name: contract',
        '  context: {cluster: contract, user: tester, namespace: shop}',
        '- name: other',
        '  context: {cluster: contract, user: tester}',
        'current-context: contract',
        '',
      ].join('\n'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A throw-away certificate for 127.0.0.1, so the client verifies TLS against the kubeconfig's
 * certificate-authority-data exactly as it would against a real API server.
 */
function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kube-api-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
