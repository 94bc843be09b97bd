import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { STORE_BACKENDS, freshStore, tempDir } from '../support/backends.js';
import { call } from '../support/server.js';

/**
 * The event log's acceptance test: a server process is killed -9 between the commit of registry changes and the
 * delivery of their webhooks, again and again, and restarted on the same store; in the end a receiver that
 * de-duplicates by the payload id has seen every event of the history exactly once, and nothing else.
 */

const CHILD = join(process.cwd(), 'dist', 'test', 'support', 'kiln-child.js');

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// Short timers, so that what a killed process left behind is picked up within seconds: its consumer lease (4 s), the
// attempts it had claimed (due again after timeoutMs + leaseMarginMs = 3 s), retries (50 ms, doubling, at most 500 ms).
// The lease outlasts a restart (~2 s) on purpose: a restarted server cannot queue anything until the dead one's lease
// runs out, so a server killed soon after it started leaves acknowledged events that are committed and not queued.
const SERVER_OPTIONS = {
  events: { pollIntervalMs: 100, leaseMs: 4000 },
  capabilities: { webhooks: { timeoutMs: 2500, leaseMarginMs: 500, pollIntervalMs: 100, baseDelayMs: 50, maxDelayMs: 500, maxAttempts: 100, concurrency: 4, allowedHosts: ['127.0.0.1'] } },
};

interface Kiln {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
  readonly output: () => string;
}

/** Starts test/support/kiln-child.ts (createServer with SERVER_OPTIONS) as a process of its own. */
async function startKiln(storeUri: string, artifactsUri: string, home: string): Promise<Kiln> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify({ storeUri, artifactsUri, home, ...SERVER_OPTIONS })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await Promise.race([
    until('the server to listen', () => /listening on (http:\/\/\S+)/.exec(out)?.[1], 30_000),
    exited.then(() => {
      throw new Error(`the server exited before listening: ${out}`);
    }),
  ]);
  return { child, url, exited, output: () => out };
}

interface Delivery {
  readonly path: string;
  readonly id: string;
  readonly kind: string;
  readonly model: string | null;
}

/**
 * The webhook receiver, de-duplicating by payload id as the docs ask receivers to. Most requests it processes (records)
 * and answers at once. Every fifth it works on for 150-500 ms first, and processes it only if the sender is still
 * there to get the answer: a delivery whose sender was killed meanwhile is dropped, as a receiver that commits its
 * work with the reply would drop it. So a kill while such a delivery is in flight leaves the event undelivered, and only
 * the server's retry of the attempt the dead process had claimed can deliver it.
 */
async function startReceiver() {
  const got: Delivery[] = [];
  let inFlight = 0;
  let dropped = 0;
  let n = 0;
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const nth = n++;
      let delivery: Delivery;
      try {
        const p = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        delivery = { path: req.url ?? '/', id: p.id, kind: p.kind, model: p.model };
      } catch {
        delivery = { path: req.url ?? '/', id: '(not JSON)', kind: '', model: null };
      }
      const processAndAnswer = () => {
        got.push(delivery);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (nth % 5 !== 0) return processAndAnswer();
      inFlight++;
      let senderGone = false;
      res.on('close', () => {
        if (!res.writableFinished) senderGone = true;
      });
      setTimeout(() => {
        inFlight--;
        if (senderGone) dropped++;
        else processAndAnswer();
      }, 150 + ((nth * 137) % 350));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    at: (path: string) => got.filter((g) => g.path === path),
    inFlight: () => inFlight,
    dropped: () => dropped,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A change the server acknowledged (answered 2xx), as the history should show it. */
interface Acked {
  readonly kind: 'model_created' | 'version_created' | 'alias_set' | 'alias_deleted' | 'stage_transitioned';
  readonly model: string;
  readonly version?: number;
  readonly alias?: string;
}

interface HistoryEntry {
  readonly id: number;
  readonly name: string;
  readonly kind: string;
  readonly version: number | null;
  readonly alias: string | null;
}

/** A webhook's whole delivery log (every attempt). */
async function deliveryLog(url: string, hookId: string): Promise<{ event_id: string; status: string }[]> {
  const all: { event_id: string; status: string }[] = [];
  let token: string | undefined;
  do {
    const r = await call(url, 'GET', `/api/v1/webhooks/${hookId}/deliveries?max_results=1000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
    all.push(...r.body.deliveries);
    token = r.body.next_page_token;
  } while (token);
  return all;
}

type KillMode = 'after an acknowledged write' | 'while deliveries are in flight' | 'after a set delay';
const MODES: readonly KillMode[] = ['after an acknowledged write', 'while deliveries are in flight', 'after a set delay'];
const KILLS = 6;
const LANES = 2;
/** Pause between a lane's writes: enough changes to kill in the middle of, few enough to deliver in seconds. */
const WRITE_GAP_MS = 60;

for (const backend of STORE_BACKENDS) {
  describe(`kill -9 between commit and webhook delivery on ${backend}`, () => {
    it('delivers every event of the history, and nothing else, exactly once to a receiver that de-duplicates by id', async (t) => {
      const store = await freshStore(backend);
      const home = tempDir('kiln-kill-events-');
      const artifacts = pathToFileURL(join(home, 'artifacts')).href;
      const rx = await startReceiver();
      const acked: Acked[] = [];
      const refused: string[] = [];
      const notes: string[] = [];
      /** At each kill: how many changes had been acknowledged, and which events the receiver had processed. */
      const kills: { server: number; acked: number; received: Set<string> }[] = [];
      let kiln: Kiln | undefined;
      try {
        // Each lane's models, as far as the server acknowledged them: the writers only refer to acknowledged state.
        const lanes = Array.from({ length: LANES }, () => ({ models: [] as { name: string; versions: { n: number; stage: string }[]; alias: number | null }[], created: 0 }));

        /** One writer lane for the life of one server process: registry changes over HTTP until the round ends. */
        const write = async (lane: number, round: { over: boolean; url: string; onAck: () => void }) => {
          const s = lanes[lane]!;
          for (let step = lane; !round.over; step++) {
            const m = s.models.at(-1 - (step % Math.max(1, Math.min(3, s.models.length))));
            const v = m?.versions.at(-1);
            let req: { method: string; path: string; body?: unknown; change: Acked; apply: (body: any) => void };
            if (!m || step % 6 === 0) {
              const name = `lane${lane}-model${s.created++}`;
              req = { method: 'POST', path: '/models', body: { name }, change: { kind: 'model_created', model: name }, apply: () => s.models.push({ name, versions: [], alias: null }) };
            } else if (!v || step % 6 === 1 || step % 6 === 4) {
              const change: { kind: 'version_created'; model: string; version?: number } = { kind: 'version_created', model: m.name };
              req = {
                method: 'POST',
                path: `/models/${m.name}/versions`,
                // External storage: READY without reading anything (so aliases can point at it), recorded by the
                // inspection's own transaction after the version's: version_ready is one more event that a server
                // killed in between leaves pending and a restarted one finishes.
                body: { source: 's3://nowhere/model' },
                change,
                apply: (body) => {
                  change.version = Number(body.version.version);
                  m.versions.push({ n: change.version, stage: 'None' });
                },
              };
            } else if (step % 6 === 2 || (step % 6 === 5 && m.alias === null)) {
              req = { method: 'PUT', path: `/models/${m.name}/aliases/champion`, body: { version: v.n }, change: { kind: 'alias_set', model: m.name, alias: 'champion', version: v.n }, apply: () => (m.alias = v.n) };
            } else if (step % 6 === 5) {
              req = { method: 'DELETE', path: `/models/${m.name}/aliases/champion`, change: { kind: 'alias_deleted', model: m.name, alias: 'champion' }, apply: () => (m.alias = null) };
            } else {
              const stage = v.stage === 'Staging' ? 'Production' : 'Staging';
              req = { method: 'PATCH', path: `/models/${m.name}/versions/${v.n}`, body: { stage }, change: { kind: 'stage_transitioned', model: m.name, version: v.n }, apply: () => (v.stage = stage) };
            }
            let r: Awaited<ReturnType<typeof call>>;
            try {
              r = await call(round.url, req.method, `/api/v1${req.path}`, req.body, { 'x-kiln-user': `writer${lane}` });
            } catch {
              // The server is gone (killed): whether this change committed is unknown. The history will tell; this
              // lane leaves the model alone from now on, since its state is unknown.
              if (m) s.models.splice(s.models.indexOf(m), 1);
              return;
            }
            if (r.status >= 200 && r.status < 300) {
              req.apply(r.body);
              acked.push(req.change);
              round.onAck();
            } else {
              refused.push(`${req.method} ${req.path} → ${r.status} ${r.text.slice(0, 200)}`);
            }
            await sleep(WRITE_GAP_MS);
          }
        };

        let hooks: { all: string; aliases: string } | undefined;
        for (let k = 0; k <= KILLS; k++) {
          kiln = await startKiln(store.uri, artifacts, home);
          const current = kiln;
          if (!hooks) {
            const v1 = (body: unknown) => call(current.url, 'POST', '/api/v1/webhooks', body);
            const all = await v1({ name: 'everything', url: `${rx.base}/all`, events: ['*'] });
            const aliases = await v1({ name: 'aliases', url: `${rx.base}/aliases`, events: ['alias_set', 'alias_deleted'] });
            assert.equal(all.status, 201, all.text);
            assert.equal(aliases.status, 201, aliases.text);
            hooks = { all: all.body.webhook.id, aliases: aliases.body.webhook.id };
          }
          const mode: KillMode | 'no kill: the last server' = k < KILLS ? MODES[k % MODES.length]! : 'no kill: the last server';
          let acks = 0;
          let inFlightAtKill = -1;
          const round = {
            over: false,
            url: current.url,
            onAck: () => {
              acks++;
              // The first server is killed in full flow. Later ones are killed within ~200 ms of starting, before
              // the dead predecessor's consumer lease has run out: those acknowledged events are committed and not
              // even queued yet, so only the stored consumer position can bring them to the next server.
              if (mode === 'after an acknowledged write' && acks >= (k === 0 ? 20 : 6)) kill();
            },
          };
          const kill = () => {
            if (round.over) return;
            round.over = true;
            inFlightAtKill = rx.inFlight();
            kills.push({ server: k + 1, acked: acked.length, received: new Set(rx.at('/all').map((d) => d.id)) });
            current.child.kill('SIGKILL');
          };
          const writers = Array.from({ length: LANES }, (_, lane) => write(lane, round));
          if (mode === 'after an acknowledged write') {
            // kill() runs from the writer, in the same tick as the acknowledgement; a fallback in case writes stall.
            await until('enough acknowledged writes', () => round.over, 15_000).catch(() => kill());
          } else if (mode === 'while deliveries are in flight') {
            await until('a delivery in flight', () => acks >= 5 && rx.inFlight() > 0, 15_000).catch(() => {});
            kill();
          } else if (mode === 'after a set delay') {
            // Whatever the server is doing then (about 1 s after it listens).
            await sleep(200 + ((k * 397) % 1300));
            kill();
          } else {
            await sleep(1500);
            round.over = true;
          }
          await Promise.all(writers);
          if (mode !== 'no kill: the last server') await current.exited;
          notes.push(`server ${k + 1}: ${acks} writes acknowledged; ${mode === 'no kill: the last server' ? mode : `killed ${mode} (${inFlightAtKill} deliveries in flight)`}`);
        }
        const last = kiln!;

        // Every change is written now; background inspections finish (each adds version_ready/failed to the history).
        const v1 = async (path: string) => {
          const r = await call(last.url, 'GET', `/api/v1${path}`);
          assert.equal(r.status, 200, `GET ${path}: ${r.text}`);
          return r.body;
        };
        const models = await v1('/models?max_results=1000');
        assert.equal(models.next_page_token, undefined, 'every model on one page');
        const names: string[] = models.models.map((m: { name: string }) => m.name);
        await until(
          'every version to be inspected',
          async () => {
            for (const name of names) {
              const versions = (await v1(`/models/${name}/versions?max_results=1000`)).versions as { status: string }[];
              if (versions.some((x) => x.status === 'PENDING_REGISTRATION')) return false;
            }
            return true;
          },
          30_000,
        );
        const history: HistoryEntry[] = [];
        for (const name of names) history.push(...((await v1(`/models/${name}/history?max_results=10000`)).events as HistoryEntry[]));

        // Every acknowledged change is in the history (matched one to one, so a change acknowledged twice needs two entries).
        const unmatched = new Set(history);
        const ackedIds: string[] = [];
        const lost = acked.filter((c) => {
          const h = [...unmatched].find((e) => e.kind === c.kind && e.name === c.model && (c.version === undefined || e.version === c.version) && (c.alias === undefined || e.alias === c.alias));
          if (h) unmatched.delete(h);
          ackedIds.push(h ? `evt_${h.id}` : '');
          return !h;
        });
        assert.deepEqual(lost, [], 'every acknowledged change is in the history');
        assert.deepEqual(refused, [], 'the server refused no write');

        const expected = (kinds?: readonly string[]) => new Set(history.filter((e) => !kinds || kinds.includes(e.kind)).map((e) => `evt_${e.id}`));
        const wantAll = expected();
        const wantAliases = expected(['alias_set', 'alias_deleted']);
        const distinct = (path: string) => new Set(rx.at(path).map((d) => d.id));
        await until(
          'the receiver to see every event of the history',
          () => [...wantAll].every((id) => distinct('/all').has(id)) && [...wantAliases].every((id) => distinct('/aliases').has(id)),
          45_000,
        ).catch(async (e: Error) => {
          // Say whether the missing events were never queued (lost between the log and the queue) or are queued
          // and not sent yet.
          const missing = [...wantAll].filter((id) => !distinct('/all').has(id));
          const log = await deliveryLog(last.url, hooks!.all);
          const queued = missing.filter((id) => log.some((d) => d.event_id === id));
          const statuses = log.reduce<Record<string, number>>((acc, d) => ({ ...acc, [d.status]: (acc[d.status] ?? 0) + 1 }), {});
          throw new Error(
            `${e.message}: ${missing.length} of ${wantAll.size} never arrived (${missing.slice(0, 20).join(', ')}); ` +
              `${queued.length} of them have deliveries queued; delivery log: ${JSON.stringify(statuses)}; server output: ${last.output().slice(-2000)}`,
          );
        });
        // Late arrivals (an attempt whose sender was killed, sent again) would show up now: they may repeat an id,
        // never bring a new one.
        await sleep(1500);

        const byId = new Map(history.map((e) => [`evt_${e.id}`, e]));
        for (const [path, want] of [
          ['/all', wantAll],
          ['/aliases', wantAliases],
        ] as const) {
          const got = rx.at(path);
          assert.deepEqual(
            [...distinct(path)].filter((id) => !want.has(id)),
            [],
            `${path}: nothing arrived that is not in the history, or not of the webhook's kinds`,
          );
          assert.deepEqual([...want].filter((id) => !distinct(path).has(id)), [], `${path}: every event of the webhook's kinds arrived`);
          for (const d of got) {
            const h = byId.get(d.id)!;
            assert.deepEqual([d.kind, d.model], [h.kind, h.name], `${path}: ${d.id} describes its history entry`);
          }
          const duplicates = got.length - distinct(path).size;
          t.diagnostic(`${backend} ${path}: ${distinct(path).size} distinct events, ${got.length} deliveries, ${duplicates} duplicates (the receiver's de-duplication by id absorbs them)`);
        }
        assert.ok(acked.length >= 40, `the writers made real progress (${acked.length} acknowledged changes)`);
        // The kills did fall between commit and delivery: changes the server had acknowledged (so committed) whose
        // events the receiver had not processed yet when the process died, and that arrived only later.
        let undeliveredAtKills = 0;
        for (const kill of kills) {
          const pending = ackedIds.slice(0, kill.acked).filter((id) => !kill.received.has(id)).length;
          undeliveredAtKills += pending;
          notes[kill.server - 1] += `; ${pending} acknowledged changes not yet delivered`;
        }
        for (const n of notes) t.diagnostic(n);
        t.diagnostic(`${acked.length} acknowledged changes, ${history.length} history entries; the receiver dropped ${rx.dropped()} deliveries whose sender died before the answer`);
        assert.ok(undeliveredAtKills > 0, 'some kills fell between the commit of an acknowledged change and the delivery of its event');

        last.child.kill('SIGTERM');
        await last.exited;
        assert.equal(last.child.exitCode, 0, `the last server stopped cleanly: ${last.output().slice(-2000)}`);
      } finally {
        if (kiln && kiln.child.exitCode === null && kiln.child.signalCode === null) {
          kiln.child.kill('SIGKILL');
          await kiln.exited;
        }
        await rx.stop();
        await store.drop();
        rmSync(home, { recursive: true, force: true });
      }
    });
  });
}
