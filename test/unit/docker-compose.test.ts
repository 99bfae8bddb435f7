// docker/compose.yaml without a Docker engine: parsed, then checked to publish nothing beyond
// the loopback and to carry no secret with a default value.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const DOCKER_DIR = fileURLToPath(new URL('../../docker/', import.meta.url));
const TEXT = readFileSync(path.join(DOCKER_DIR, 'compose.yaml'), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: string | number; host_ip?: string; protocol?: string })[];
  network_mode?: string;
}

const compose = parse(TEXT) as { services: Record<string, Service>; secrets?: Record<string, { file?: string; environment?: string }> };
const services = Object.entries(compose.services);

const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|(^|_)KEY$/i;
/** "${NAME:?message}" or "${NAME?message}": compose refuses to start while NAME is unset. */
const REQUIRED = /^\$\{([A-Za-z_][A-Za-z0-9_]*):?\?[^}]*\}$/;

function environment(service: Service): [string, string][] {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return env.map((entry) => {
      const at = entry.indexOf('=');
      return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
    });
  }
  return Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]);
}

/** The host address a port entry is published on; undefined = every interface. */
function hostIp(port: NonNullable<Service['ports']>[number]): string | undefined {
  if (typeof port === 'object') return port.host_ip;
  const spec = String(port).replace(/\/(udp|tcp|sctp)$/, '');
  const v6 = /^\[([^\]]+)\]:/.exec(spec);
  if (v6) return v6[1];
  const parts = spec.split(':');
  return parts.length === 3 ? parts[0] : undefined;
}

test('compose.yaml parses and its builds use Dockerfiles that exist, from the repository root', () => {
  assert.ok(services.length >= 3);
  for (const [name, s] of services) {
    if (!s.build) continue;
    assert.equal(s.build.context, '..', `${name}: built from the repository root`);
    assert.ok(existsSync(path.join(DOCKER_DIR, s.build.context, s.build.dockerfile)), `${name}: ${s.build.dockerfile} exists`);
  }
  assert.equal(compose.services['asterisk']?.build?.dockerfile, 'docker/asterisk.Dockerfile');
});

test('no port is published on every interface', () => {
  let published = 0;
  for (const [name, s] of services) {
    assert.notEqual(s.network_mode, 'host', `${name}: no host networking`);
    for (const port of s.ports ?? []) {
      published++;
      const ip = hostIp(port);
      assert.ok(ip === '127.0.0.1' || ip === '::1', `${name}: ${JSON.stringify(port)} is published on ${ip ?? 'every interface'}`);
    }
  }
  assert.ok(published >= 1, 'SIP is published (on the loopback)');
  for (const name of ['postgres', 'adapter']) assert.equal(compose.services[name]?.ports, undefined, `${name}: nothing published`);
  const ari = (compose.services['asterisk']?.ports ?? []).map(String).filter((p) => /8088/.test(p));
  assert.deepEqual(ari, [], 'ARI is not published');
});

test('no secret has a default value: each is a required variable', () => {
  let secrets = 0;
  for (const [name, s] of services) {
    for (const [key, value] of environment(s)) {
      if (SECRET_NAME.test(key)) {
        secrets++;
        assert.match(value, REQUIRED, `${name}: ${key} must be \${VAR:?message}, not ${JSON.stringify(value)}`);
      }
      // A password inside a URL: user:<password>@host.
      const inUrl = /^[a-z][a-z0-9+.-]*:\/\/[^/:@]+:([^@]+)@/i.exec(value);
      if (inUrl) assert.match(inUrl[1]!, REQUIRED, `${name}: the password in ${key} must be a required variable`);
    }
  }
  assert.ok(secrets >= 3, 'ARI_PASSWORD (twice) and POSTGRES_PASSWORD are there');
  // Nowhere a default for a secret: ${X:-default} or ${X-default}.
  for (const m of TEXT.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?-/g)) {
    assert.ok(!SECRET_NAME.test(m[1]!), `\${${m[1]}} has a default value`);
  }
  for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
    assert.ok(!secret.file || !existsSync(path.join(DOCKER_DIR, secret.file)), `secret ${name}: no secret file in the repository`);
  }
});

test("Asterisk's ARI password and the adapter's are the same required variable", () => {
  const env = (service: string) => new Map(environment(compose.services[service]!));
  const asterisk = env('asterisk').get('ARI_PASSWORD');
  const adapter = env('adapter').get('ARI_PASSWORD');
  assert.equal(REQUIRED.exec(asterisk ?? '')?.[1], 'ARI_PASSWORD');
  assert.equal(REQUIRED.exec(adapter ?? '')?.[1], 'ARI_PASSWORD');
  assert.equal(env('adapter').get('ARI_USER'), 'callpolicy', 'the user of ari.conf.sample');
});
