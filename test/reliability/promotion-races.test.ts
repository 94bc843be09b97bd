import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';

/**
 * Races between registry decisions, fired truly concurrently over HTTP and repeated on fresh models: of two decisions
 * on one request or one alias exactly one wins, the loser is refused or recorded as rejected, and the model's history
 * (and the platform event log, which carries every history entry) says exactly what happened.
 *
 * A race is timing: one round proves little, so each scenario runs ROUNDS times (KILN_RACE_ROUNDS overrides it). Even
 * rounds send both competitors to one server; odd rounds send one of them to a second server over the same store, as
 * between replicas: on PostgreSQL a second server in this process (its own connection pool), on SQLite a `kiln server`
 * process on the same file. One process hardly races SQLite transactions: its driver is synchronous, so a handler's
 * queries run one after another without giving the other request a turn, and the first request to arrive finished
 * first in every round tried; two processes overlap for real, on the file's lock.
 */
const ROUNDS = Number(process.env.KILN_RACE_ROUNDS ?? 25);
const BIN = join(process.cwd(), 'bin', 'kiln.js');

type Res = Awaited<ReturnType<typeof call>>;
type Api = (method: string, path: string, body?: unknown, user?: string) => Promise<Res>;
const apiOf =
  (url: string): Api =>
  (method, path, body, user = 'ana') =>
    call(url, method, `/api/v1${path}`, body, { 'x-kiln-user': user });

/** A second server over the given store: in this process on PostgreSQL, a `kiln server` process on SQLite. */
async function startPeer(primary: TestServer, backend: 'sqlite' | 'postgres'): Promise<{ url: string; stop(): Promise<void> }> {
  if (backend === 'postgres') {
    const ts = await startTestServer({ store: backend, storeUri: primary.storeUri });
    return { url: ts.url, stop: () => ts.stop() };
  }
  const child: ChildProcess = spawn(process.execPath, [BIN, 'server', '--port', '0', '--store', primary.storeUri, '--artifacts', primary.artifactsUri, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Not left behind when this test process ends without reaching after().
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the second server did not start: ${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the second server exited with ${code}: ${err}`));
    });
  });
  return {
    url,
    async stop() {
      process.off('exit', orphan);
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const show = (...rs: Res[]) => rs.map((r) => `${r.status} ${r.text}`).join(' | ');

/**
 * Fires each round's requests together. Sent in the same tick, the request that does less before its transaction
 * wins nearly every round, which would test one interleaving only; so in most rounds one request, chosen at random,
 * leaves later by a random part of how long these requests take (learnt from the rounds so far), which moves the
 * other's transaction to different points of its reads and checks. The answers come back in the order given, with
 * the head start for the failure message.
 */
class Racer {
  /** A moving average of the slowest request of each round, in ms. */
  private span = 5;

  async race<T extends (() => Promise<Res>)[]>(...sends: T): Promise<{ answers: { [K in keyof T]: Res }; stagger: string }> {
    const late = Math.random() < 0.25 ? -1 : Math.floor(Math.random() * sends.length);
    const ms = Math.random() * this.span;
    let slowest = 0;
    const answers = await Promise.all(
      sends.map(async (send, i) => {
        if (i === late) await new Promise((resolve) => setTimeout(resolve, ms));
        const t0 = performance.now();
        const answer = await send();
        slowest = Math.max(slowest, performance.now() - t0);
        return answer;
      }),
    );
    this.span = 0.8 * this.span + 0.2 * slowest;
    return { answers: answers as { [K in keyof T]: Res }, stagger: late < 0 ? 'sent together' : `request ${late + 1} sent ${ms.toFixed(1)} ms late` };
  }
}

for (const backend of STORE_BACKENDS) {
  describe(`promotion and registry races on ${backend}`, () => {
    let primary: TestServer;
    let peer: { url: string; stop(): Promise<void> };
    let api: Api;
    let runs: { low: string; high: string };

    /** The two ends of a round: one server on even rounds, two servers over one store on odd rounds. */
    const ends = (round: number): [Api, Api] => (round % 2 === 1 ? [api, apiOf(peer.url)] : [api, api]);

    const ok = (r: Res, status = 200) => {
      assert.equal(r.status, status, show(r));
      return r.body;
    };
    const createModel = async (name: string) => ok(await api('POST', '/models', { name }), 201);
    /** A new version of `name` from one of the prepared runs (each has a model.onnx and an f1 metric). */
    const register = async (name: string, run: string): Promise<number> =>
      Number(ok(await api('POST', `/models/${name}/versions`, { source: `runs:/${run}/model`, run_id: run }), 201).version.version);
    /** Versions are inspected in the background; the gates need them READY. */
    const settle = async () => {
      await primary.server.services.registry.whenSettled();
    };
    const history = async (name: string): Promise<any[]> => ok(await api('GET', `/models/${name}/history`)).events;
    const requests = async (name: string): Promise<any[]> => ok(await api('GET', `/models/${name}/promotions`)).requests;
    const aliasOf = async (name: string, alias: string): Promise<number | undefined> => {
      const r = await api('GET', `/models/${name}/aliases/${alias}`);
      if (r.status === 404) return undefined;
      return Number(ok(r).version.version);
    };
    const setPolicy = async (name: string, alias: string, policy: unknown) => ok(await api('PUT', `/models/${name}/policies/${alias}`, policy));

    /**
     * Runs a scenario over the models it names, then checks the event log against their histories: the registry
     * events appended meanwhile are exactly the history entries (same ids, same content), each once, in history order.
     * The events of models the scenario deleted (named in `deleted`) have no history left to compare with.
     */
    const withEventLogCheck = async (run: (models: Set<string>, deleted: Set<string>) => Promise<void>) => {
      const since = await primary.server.events.lastId();
      const models = new Set<string>();
      const deleted = new Set<string>();
      await run(models, deleted);
      const logged = (await primary.server.events.read(since, 100_000)).filter((e) => e.type.startsWith('registry.') && !deleted.has(e.data.model as string));
      const byId = new Map<number, (typeof logged)[number]>();
      for (const e of logged) {
        const id = Number(e.data.id);
        assert.ok(!byId.has(id), `history entry ${id} is in the event log twice`);
        byId.set(id, e);
      }
      let entries = 0;
      for (const name of models) {
        const h = await history(name);
        entries += h.length;
        let previous: { entry: any; position: number } | undefined;
        for (const entry of h) {
          const e = byId.get(entry.id);
          assert.ok(e, `history entry ${JSON.stringify(entry)} of ${name} has no event in the log`);
          assert.equal(e.type, `registry.${entry.kind}`);
          assert.deepEqual(
            { kind: e.data.kind, version: e.data.version, alias: e.data.alias, actor: e.data.actor, time: e.data.time, reason: e.data.reason, details: e.data.details },
            { kind: entry.kind, version: entry.version === null ? null : String(entry.version), alias: entry.alias, actor: entry.actor, time: entry.time, reason: entry.reason, details: entry.details },
            `event ${e.id} differs from history entry ${entry.id} of ${name}`,
          );
          // Changes of one model commit one after another (each locks it), so a reader of the history that pages by
          // id, and a consumer of the log, see them in the same order.
          assert.ok(
            !previous || e.id > previous.position,
            `${name}: history entry ${JSON.stringify(entry)} is event ${e.id} in the log, before event ${previous?.position} of the earlier entry ${JSON.stringify(previous?.entry)}`,
          );
          previous = { entry, position: e.id };
        }
      }
      assert.equal(logged.length, entries, `the event log has ${logged.length - entries} registry events more than the histories`);
    };

    before(async () => {
      primary = await startTestServer({ store: backend });
      peer = await startPeer(primary, backend);
      api = apiOf(primary.url);
      const run = async (f1: number): Promise<string> => {
        const id = ok(await api('POST', '/runs', { experiment_id: '0' }), 201).run.run_id as string;
        ok(await api('POST', `/runs/${id}/log`, { metrics: [{ key: 'f1', value: f1, timestamp: Date.now(), step: 0 }] }), 204);
        const up = await fetch(`${primary.url}/api/v1/runs/${id}/artifacts/model/model.onnx`, { method: 'PUT', body: linearModel(), headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(up.status, 204);
        return id;
      };
      runs = { low: await run(0.8), high: await run(0.9) };
    });
    after(async () => {
      await peer?.stop();
      await primary?.stop();
    });

    it(`approve vs approve: exactly one approval is recorded and moves the alias (${ROUNDS} rounds)`, async (t: TestContext) => {
      const racer = new Racer();
      let decidedInside = 0;
      await withEventLogCheck(async (models) => {
        for (let round = 0; round < ROUNDS; round++) {
          const name = `aa-${round}`;
          models.add(name);
          await createModel(name);
          const v = await register(name, runs.high);
          await settle();
          await setPolicy(name, 'production', { rules: ['metrics.f1 >= 0.5'], require_approval: true });
          const pending = ok(await api('POST', `/models/${name}/versions/${v}/promote`, { alias: 'production' }, 'ana'));
          assert.equal(pending.status, 'PENDING_APPROVAL');
          const id = pending.request_id as number;

          const [x, y] = ends(round);
          const {
            answers: [rb, rc],
            stagger,
          } = await racer.race(
            () => x('POST', `/models/${name}/promotions/${id}/approve`, { reason: 'bo agrees' }, 'bo'),
            () => y('POST', `/models/${name}/promotions/${id}/approve`, { reason: 'cy agrees' }, 'cy'),
          );
          const ctx = `round ${round}, ${stagger}: ${show(rb, rc)}`;
          assert.deepEqual([rb.status, rc.status].sort(), [200, 409], ctx);
          const [win, lose, winner] = rb.status === 200 ? [rb, rc, 'bo'] : [rc, rb, 'cy'];
          assert.equal(win.body.status, 'PROMOTED', ctx);
          assert.equal(win.body.version, v, ctx);
          assert.equal(lose.body.error_code, 'INVALID_STATE', ctx);
          // Refused under the lock (the guarded UPDATE matched nothing) rather than by the read before it.
          if (/another decision was made first/.test(lose.body.message)) decidedInside++;

          const req = (await requests(name)).find((q) => q.id === id);
          assert.equal(req.status, 'PROMOTED', ctx);
          assert.equal(req.decided_by, winner, ctx);
          assert.equal(await aliasOf(name, 'production'), v, ctx);
          const h = (await history(name)).filter((e) => e.alias === 'production' && e.kind !== 'policy_set');
          assert.deepEqual(
            h.map((e) => `${e.kind}:${e.actor}:${e.details?.request_id ?? e.details?.promotion_request}`),
            [`promotion_requested:ana:${id}`, `promotion_approved:${winner}:${id}`, `alias_set:${winner}:${id}`],
            ctx,
          );
          assert.equal(h[1].reason, `${winner} agrees`, ctx);
          assert.equal(h[2].version, v, ctx);
        }
      });
      t.diagnostic(`${decidedInside} of ${ROUNDS} losers were refused inside the transaction`);
    });

    it(`approve vs reject: exactly one decision wins and the alias agrees with it (${ROUNDS} rounds)`, async (t: TestContext) => {
      const racer = new Racer();
      const wins = { approve: 0, reject: 0, inside: 0 };
      await withEventLogCheck(async (models) => {
        for (let round = 0; round < ROUNDS; round++) {
          const name = `ar-${round}`;
          models.add(name);
          await createModel(name);
          const v = await register(name, runs.high);
          await settle();
          await setPolicy(name, 'production', { rules: ['metrics.f1 >= 0.5'], require_approval: true });
          const id = ok(await api('POST', `/models/${name}/versions/${v}/promote`, { alias: 'production' }, 'ana')).request_id as number;

          // Alternate which server each request goes to.
          const [e1, e2] = ends(round);
          const [x, y] = round % 4 < 2 ? [e1, e2] : [e2, e1];
          const {
            answers: [approve, reject],
            stagger,
          } = await racer.race(
            () => x('POST', `/models/${name}/promotions/${id}/approve`, { reason: 'ship it' }, 'bo'),
            () => y('POST', `/models/${name}/promotions/${id}/reject`, { reason: 'not yet' }, 'cy'),
          );
          const ctx = `round ${round}, ${stagger}: approve ${show(approve)} / reject ${show(reject)}`;
          assert.deepEqual([approve.status, reject.status].sort(), [200, 409], ctx);
          const loser = approve.status === 200 ? reject : approve;
          assert.equal(loser.body.error_code, 'INVALID_STATE', ctx);
          if (/another decision was made first/.test(loser.body.message)) wins.inside++;
          const req = (await requests(name)).find((q) => q.id === id);
          const h = (await history(name)).filter((e) => e.alias === 'production' && e.kind !== 'policy_set');
          const kinds = h.map((e) => `${e.kind}:${e.actor}`);
          if (approve.status === 200) {
            wins.approve++;
            assert.equal(approve.body.status, 'PROMOTED', ctx);
            assert.equal(req.status, 'PROMOTED', ctx);
            assert.equal(req.decided_by, 'bo', ctx);
            assert.equal(await aliasOf(name, 'production'), v, ctx);
            assert.deepEqual(kinds, ['promotion_requested:ana', 'promotion_approved:bo', 'alias_set:bo'], ctx);
          } else {
            wins.reject++;
            assert.equal(reject.body.status, 'REJECTED', ctx);
            assert.equal(req.status, 'REJECTED', ctx);
            assert.equal(req.decided_by, 'cy', ctx);
            assert.equal(req.reason, 'not yet', ctx);
            // Never a moved alias with a rejected request.
            assert.equal(await aliasOf(name, 'production'), undefined, ctx);
            assert.deepEqual(kinds, ['promotion_requested:ana', 'promotion_rejected:cy'], ctx);
          }
        }
      });
      t.diagnostic(`approve won ${wins.approve}, reject won ${wins.reject}; ${wins.inside} losers were refused inside the transaction`);
    });

    it(`promote vs promote: the alias moves along one consistent chain (${ROUNDS} rounds)`, async (t: TestContext) => {
      const racer = new Racer();
      let stale = 0;
      await withEventLogCheck(async (models) => {
        for (let round = 0; round < ROUNDS; round++) {
          const name = `pp-${round}`;
          models.add(name);
          await createModel(name);
          const champion = await register(name, runs.low);
          const a = await register(name, runs.high);
          const b = await register(name, runs.high);
          await settle();
          ok(await api('PUT', `/models/${name}/aliases/production`, { version: champion }));
          // Champion-relative and without approval: whichever commits first changes what the other is measured against.
          await setPolicy(name, 'production', { rules: ['metrics.f1 >= champion'] });

          const [x, y] = ends(round);
          const { answers: responses, stagger } = await racer.race(
            () => x('POST', `/models/${name}/versions/${a}/promote`, { alias: 'production' }, 'ana'),
            () => y('POST', `/models/${name}/versions/${b}/promote`, { alias: 'production' }, 'bo'),
          );
          const ctx = `round ${round}, ${stagger}: ${show(...responses)}`;
          for (const r of responses) assert.equal(r.status, 200, ctx);
          const outcomes = responses.map((r) => r.body);
          const promoted = outcomes.filter((o) => o.status === 'PROMOTED');
          const rejected = outcomes.filter((o) => o.status === 'REJECTED');
          assert.equal(promoted.length + rejected.length, 2, ctx);
          // The first to commit found the alias where it had read it.
          assert.ok(promoted.length >= 1, ctx);
          for (const o of rejected) {
            // Both pass the rules, so a rejection can only be the alias moving under an evaluation.
            assert.match(o.message, /the alias moved to version \d+ while this promotion was evaluated against version/, ctx);
            assert.equal(o.champion_version, champion, ctx);
            stale++;
          }

          const h = (await history(name)).filter((e) => e.alias === 'production');
          const moves = h.filter((e) => e.kind === 'alias_set' && e.details?.promotion_request !== undefined);
          assert.equal(moves.length, promoted.length, ctx);
          // Replay the history: each move starts where the previous one left the alias, and matches its outcome.
          let holder = champion;
          for (const m of moves) {
            const o = promoted.find((p) => p.request_id === m.details.promotion_request);
            assert.ok(o, `${ctx}: alias_set ${JSON.stringify(m)} has no PROMOTED outcome`);
            assert.equal(o.champion_version, holder, ctx);
            assert.equal(m.details.previous_version, holder, ctx);
            assert.equal(m.version, o.version, ctx);
            holder = m.version;
          }
          assert.equal(await aliasOf(name, 'production'), holder, ctx);
          const rejections = h.filter((e) => e.kind === 'promotion_rejected');
          assert.deepEqual(
            rejections.map((e) => [e.details.request_id, e.reason]),
            rejected.map((o) => [o.request_id, o.message]),
            ctx,
          );
          const byId = new Map((await requests(name)).map((q) => [q.id, q.status]));
          for (const o of outcomes) assert.equal(byId.get(o.request_id), o.status, ctx);
        }
      });
      t.diagnostic(`${stale} of ${ROUNDS} rounds rejected a promotion whose champion had moved`);
    });

    it(`set or delete an alias vs set its policy: the plain route never moves a guarded alias (${ROUNDS} rounds)`, async (t: TestContext) => {
      const racer = new Racer();
      let refused = 0;
      await withEventLogCheck(async (models) => {
        for (let round = 0; round < ROUNDS; round++) {
          const name = `sp-${round}`;
          models.add(name);
          await createModel(name);
          const v1 = await register(name, runs.high);
          const v2 = await register(name, runs.high);
          await settle();
          ok(await api('PUT', `/models/${name}/aliases/production`, { version: v1 }));

          const remove = Math.floor(round / 2) % 2 === 1;
          const [x, y] = ends(round);
          const {
            answers: [plain, policy],
            stagger,
          } = await racer.race(
            () => (remove ? x('DELETE', `/models/${name}/aliases/production`, undefined, 'ana') : x('PUT', `/models/${name}/aliases/production`, { version: v2 }, 'ana')),
            () => y('PUT', `/models/${name}/policies/production`, { rules: ['metrics.f1 >= 0.5'] }, 'bo'),
          );
          const ctx = `round ${round} (${remove ? 'delete' : 'set'}), ${stagger}: ${show(plain, policy)}`;
          assert.equal(policy.status, 200, ctx);
          assert.ok([remove ? 204 : 200, 403].includes(plain.status), ctx);
          const h = (await history(name)).filter((e) => e.alias === 'production').map((e) => `${e.kind}:${e.version ?? '-'}`);
          if (plain.status === 403) {
            refused++;
            assert.equal(plain.body.error_code, 'PERMISSION_DENIED', ctx);
            assert.equal(await aliasOf(name, 'production'), v1, ctx);
            assert.deepEqual(h, [`alias_set:${v1}`, 'policy_set:-'], ctx);
          } else if (remove) {
            assert.equal(await aliasOf(name, 'production'), undefined, ctx);
            assert.deepEqual(h, [`alias_set:${v1}`, `alias_deleted:${v1}`, 'policy_set:-'], ctx);
          } else {
            assert.equal(plain.body.version.version, v2, ctx);
            assert.equal(await aliasOf(name, 'production'), v2, ctx);
            assert.deepEqual(h, [`alias_set:${v1}`, `alias_set:${v2}`, 'policy_set:-'], ctx);
          }
        }
      });
      t.diagnostic(`the plain route was refused in ${refused} of ${ROUNDS} rounds`);
    });

    it(`delete a version vs promote or approve it: no alias on a deleted version, no 500 (${ROUNDS} rounds)`, async (t: TestContext) => {
      const racer = new Racer();
      const seen = { promoted: 0, gone: 0 };
      await withEventLogCheck(async (models) => {
        for (let round = 0; round < ROUNDS; round++) {
          const name = `dv-${round}`;
          models.add(name);
          await createModel(name);
          await register(name, runs.high);
          const v = await register(name, runs.high);
          await settle();
          // Half the rounds race a direct promotion, half an approval of a request opened before the race.
          const approval = Math.floor(round / 2) % 2 === 1;
          await setPolicy(name, 'production', { rules: ['metrics.f1 >= 0.5'], require_approval: approval });
          let id: number | undefined;
          if (approval) id = ok(await api('POST', `/models/${name}/versions/${v}/promote`, { alias: 'production' }, 'ana')).request_id;

          const [x, y] = ends(round);
          const {
            answers: [del, move],
            stagger,
          } = await racer.race(
            () => x('DELETE', `/models/${name}/versions/${v}`, undefined, 'ana'),
            () => (approval ? y('POST', `/models/${name}/promotions/${id}/approve`, {}, 'bo') : y('POST', `/models/${name}/versions/${v}/promote`, { alias: 'production' }, 'bo')),
          );
          const ctx = `round ${round} (${approval ? 'approve' : 'promote'}), ${stagger}: delete ${show(del)} / move ${show(move)}`;
          assert.equal(del.status, 204, ctx);
          // A deletion that came first rejected the request: the approval then finds it decided (409).
          assert.ok([200, 404, ...(approval ? [409] : [])].includes(move.status), ctx);
          assert.equal((await api('GET', `/models/${name}/versions/${v}`)).status, 404, ctx);
          // The alias went with the version, whichever came first.
          assert.equal(await aliasOf(name, 'production'), undefined, ctx);
          const h = (await history(name)).filter((e) => e.version === v && e.kind !== 'version_created' && e.kind !== 'version_ready').map((e) => `${e.kind}:${e.actor}`);
          const requested = approval ? ['promotion_requested:ana'] : [];
          if (move.status === 200) {
            seen.promoted++;
            assert.equal(move.body.status, 'PROMOTED', ctx);
            // The deletion removed the alias the promotion had just set, and says so.
            assert.deepEqual(h, [...requested, ...(approval ? ['promotion_approved:bo'] : []), 'alias_set:bo', 'alias_deleted:ana', 'version_deleted:ana'], ctx);
          } else {
            seen.gone++;
            assert.equal(move.body.error_code, move.status === 409 ? 'INVALID_STATE' : 'RESOURCE_DOES_NOT_EXIST', ctx);
            // The deletion rejected the request still awaiting approval; a refused promotion leaves no request behind.
            assert.deepEqual(h, [...requested, ...(approval ? ['promotion_rejected:ana'] : []), 'version_deleted:ana'], ctx);
            assert.deepEqual((await requests(name)).map((q) => q.status), approval ? ['REJECTED'] : [], ctx);
          }
        }
      });
      t.diagnostic(`the alias moved before the deletion in ${seen.promoted} rounds, the version was gone first in ${seen.gone}`);
    });

    it(`concurrent PATCH /models renames: each answer tells what happened (${ROUNDS} rounds)`, async (t: TestContext) => {
      const racer = new Racer();
      const seen = { taken: 0, both: 0, missing: 0 };
      await withEventLogCheck(async (models) => {
        for (let round = 0; round < ROUNDS; round++) {
          const [x, y] = ends(round);

          // Two models renamed to one new name: one gets it, the other is refused and keeps its name.
          const [m1, m2, target] = [`rn-${round}-a`, `rn-${round}-b`, `rn-${round}-one`];
          await createModel(m1);
          await createModel(m2);
          const same = await racer.race(
            () => x('PATCH', `/models/${m1}`, { name: target }, 'ana'),
            () => y('PATCH', `/models/${m2}`, { name: target }, 'bo'),
          );
          const [r1, r2] = same.answers;
          let ctx = `round ${round} same target, ${same.stagger}: ${show(r1, r2)}`;
          assert.deepEqual([r1.status, r2.status].sort(), [200, 409], ctx);
          seen.taken++;
          const [renamed, kept] = r1.status === 200 ? [m1, m2] : [m2, m1];
          assert.equal((r1.status === 200 ? r1 : r2).body.model.name, target, ctx);
          assert.equal((r1.status === 200 ? r2 : r1).body.error_code, 'RESOURCE_ALREADY_EXISTS', ctx);
          assert.equal((await api('GET', `/models/${renamed}`)).status, 404, ctx);
          assert.deepEqual((await history(target)).filter((e) => e.kind === 'model_renamed').map((e) => e.details), [{ from: renamed, to: target }], ctx);
          assert.deepEqual((await history(kept)).filter((e) => e.kind === 'model_renamed'), [], ctx);
          models.add(target).add(kept);

          // One model renamed two ways at once, while its description and a version's description change and an
          // alias is set through the old name: every 200 is a change the history shows, every 404 one it does not.
          const m = `rn-${round}-m`;
          await createModel(m);
          const v = await register(m, runs.high);
          await settle();
          const one = await racer.race(
            () => x('PATCH', `/models/${m}`, { name: `${m}-x` }, 'ana'),
            () => y('PATCH', `/models/${m}`, { name: `${m}-y` }, 'bo'),
            () => x('PATCH', `/models/${m}`, { description: 'described' }, 'cy'),
            () => y('PATCH', `/models/${m}/versions/${v}`, { description: 'version described', stage: 'Staging' }, 'di'),
            () => x('PUT', `/models/${m}/aliases/champion`, { version: v }, 'ed'),
          );
          const [toX, toY, describe_, describeVersion, alias] = one.answers;
          // Bodies left out: five models with their versions make the message unreadable.
          ctx = `round ${round} one model, ${one.stagger}: ${one.answers.map((r) => `${r.status} ${r.body?.error_code ?? ''}`).join(' | ')}`;
          for (const r of [toX, toY, describe_, describeVersion, alias]) assert.ok([200, 404].includes(r.status), ctx);
          const renames = [toX, toY].filter((r) => r.status === 200);
          if (renames.length === 2) seen.both++;
          if ([toX, toY, describe_, describeVersion, alias].some((r) => r.status === 404)) seen.missing++;
          // The model's name now is where the chain of renames in its history ends.
          const current = renames.length ? (await Promise.all([`${m}-x`, `${m}-y`].map((n) => api('GET', `/models/${n}`)))).map((r) => r.body?.model?.name).find(Boolean) : m;
          assert.ok(current, ctx);
          const h = await history(current);
          const chain = h.filter((e) => e.kind === 'model_renamed');
          let name = m;
          for (const e of chain) {
            assert.equal(e.details.from, name, ctx);
            name = e.details.to;
          }
          assert.equal(name, current, ctx);
          assert.deepEqual(chain.map((e) => e.actor).sort(), [toX.status === 200 ? 'ana' : undefined, toY.status === 200 ? 'bo' : undefined].filter(Boolean).sort(), ctx);
          for (const [r, to] of [
            [toX, `${m}-x`],
            [toY, `${m}-y`],
          ] as const) {
            if (r.status === 200) assert.ok(chain.some((e) => e.details.to === to), ctx);
          }
          const model = ok(await api('GET', `/models/${current}`)).model;
          assert.equal(model.description, describe_.status === 200 ? 'described' : null, ctx);
          const version = ok(await api('GET', `/models/${current}/versions/${v}`)).version;
          assert.equal(version.description, describeVersion.status === 200 ? 'version described' : null, ctx);
          assert.equal(h.filter((e) => e.kind === 'stage_transitioned').length, describeVersion.status === 200 ? 1 : 0, ctx);
          assert.equal(model.aliases.champion, alias.status === 200 ? v : undefined, ctx);
          assert.equal(h.filter((e) => e.kind === 'alias_set').length, alias.status === 200 ? 1 : 0, ctx);
          models.add(current);
        }
      });
      t.diagnostic(`both renames of one model succeeded in ${seen.both} rounds; some request found the old name gone in ${seen.missing}`);
    });

    it(`delete a model vs promote, approve, set an alias, rename or change a version: never a 500 (${ROUNDS} rounds)`, async (t: TestContext) => {
      const racer = new Racer();
      const kinds = ['promote', 'approve', 'alias', 'rename', 'stage'] as const;
      const outcomes = new Map<string, number>();
      await withEventLogCheck(async (models, deleted) => {
        for (let round = 0; round < ROUNDS; round++) {
          const name = `dm-${round}`;
          const renamed = `${name}-renamed`;
          await createModel(name);
          const v = await register(name, runs.high);
          await settle();
          const kind = kinds[round % kinds.length]!;
          await setPolicy(name, 'production', { rules: ['metrics.f1 >= 0.5'], require_approval: kind === 'approve' });
          const id = kind === 'approve' ? ok(await api('POST', `/models/${name}/versions/${v}/promote`, { alias: 'production' }, 'ana')).request_id : undefined;
          const [x, y] = ends(round);
          const change = {
            promote: () => y('POST', `/models/${name}/versions/${v}/promote`, { alias: 'production' }, 'bo'),
            approve: () => y('POST', `/models/${name}/promotions/${id}/approve`, {}, 'bo'),
            alias: () => y('PUT', `/models/${name}/aliases/staging`, { version: v }, 'bo'),
            rename: () => y('PATCH', `/models/${name}`, { name: renamed }, 'bo'),
            stage: () => y('PATCH', `/models/${name}/versions/${v}`, { stage: 'Production' }, 'bo'),
          }[kind];
          const {
            answers: [del, other],
            stagger,
          } = await racer.race(() => x('DELETE', `/models/${name}`, undefined, 'ana'), change);
          const ctx = `round ${round} (${kind}), ${stagger}: delete ${show(del)} / ${kind} ${show(other)}`;
          assert.ok([200, 404].includes(other.status), ctx);
          if (other.status === 200 && (kind === 'promote' || kind === 'approve')) assert.equal(other.body.status, 'PROMOTED', ctx);
          assert.equal((await api('GET', `/models/${name}`)).status, 404, ctx);
          const survivor = await api('GET', `/models/${renamed}`);
          if (kind === 'rename' && del.status === 404) {
            // The rename committed before the delete looked the old name up: the model lives on under the new one.
            assert.equal(other.status, 200, ctx);
            assert.equal(survivor.status, 200, ctx);
            models.add(renamed);
          } else {
            assert.equal(del.status, 204, ctx);
            assert.equal(survivor.status, 404, ctx);
            deleted.add(name).add(renamed);
          }
          const key = `${kind} ${other.status}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      });
      t.diagnostic([...outcomes].map(([k, n]) => `${k}: ${n}`).join(', '));
    });
  });
}
