import type { Transaction } from 'kysely';
import { KilnError, invalid, notFound } from '../platform/errors.js';
import type { Actor } from '../platform/actor.js';
import type { TrackingService } from '../tracking/service.js';
import type { RegistryService } from './service.js';
import type { RegistryStore } from './store.js';
import type { RecordEvent, RegistryEvents } from './events.js';
import type { RegistryTables } from './tables.js';
import type { PolicyRow, PromotionStore, RequestRow } from './promotion-store.js';
import { evaluateRule, parsePolicy, parseRule, type PromotionPolicy, type RuleContext, type RuleResult } from './policy.js';
import { refuseNotReady, validateAlias } from './validation.js';
import type { Gate as GateResult } from './schemas.js';

/** Checks that a run's training data passed validation (the data capability answers; see registry/data-gate.ts). */
export interface DataValidationGate {
  check(runId: string): Promise<{ passed: boolean; message: string; details?: Record<string, unknown> }>;
}

export type PromotionStatus = 'PENDING_APPROVAL' | 'PROMOTED' | 'REJECTED';

/** One gate's verdict, as the API sends it. */
export type { Gate as GateResult } from './schemas.js';

export interface PromotionOutcome {
  readonly requestId: number | null;
  readonly name: string;
  readonly version: string;
  readonly alias: string;
  readonly status: PromotionStatus;
  /** The version that held the alias when the candidate was evaluated. */
  readonly championVersion: string | null;
  readonly gates: readonly GateResult[];
  readonly message: string;
  readonly dryRun: boolean;
}

export interface PromotionRequest {
  readonly id: number;
  readonly name: string;
  readonly version: string;
  readonly alias: string;
  readonly status: PromotionStatus;
  readonly requestedBy: string;
  readonly requestTime: number;
  readonly decidedBy: string | null;
  readonly decisionTime: number | null;
  readonly reason: string | null;
  readonly gates: readonly GateResult[];
}

/**
 * Promotion gates: a policy per (model, alias) whose rules a candidate must pass before the alias moves to it, with
 * an optional required data validation and an optional approval by a different user. Every attempt is recorded in
 * the model's history; an alias guarded by a policy only moves through here.
 *
 * Each of promote, approve and reject is one transaction. The gates are evaluated first, outside it (they read runs
 * and validations through other capabilities); the transaction then locks the model, checks under the lock that what
 * the evaluation assumed still holds (the request is still pending, the alias still points to the champion the
 * candidate was compared with, the policy is unchanged), and writes the decision, the alias move, the history entries
 * and their events together. Of two concurrent decisions exactly one wins; the other is refused (409) or recorded as
 * rejected with the reason, and the history says what happened.
 */
export class PromotionService {
  constructor(
    private readonly registry: RegistryService,
    private readonly store: RegistryStore,
    private readonly promotions: PromotionStore,
    private readonly history: RegistryEvents,
    private readonly tracking: TrackingService,
    private readonly dataGate: DataValidationGate | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  // ------------------------------------------------------------------ policies
  async setPolicy(name: string, alias: string, doc: unknown, actor: Actor): Promise<PromotionPolicy> {
    const model = await this.registry.requireModel(name);
    const a = validateAlias(alias);
    const policy = parsePolicy(doc);
    const pk = Number(model.model_pk);
    const now = this.now();
    await this.history.tx(async (trx, record) => {
      await this.lock(trx, pk, model.name, now);
      await this.promotions.upsertPolicy(trx, { model_pk: pk, alias: a, policy: JSON.stringify(policy), updated_by: actor.user, update_time: now });
      await record({ modelPk: pk, kind: 'policy_set', alias: a, actor: actor.user, time: now, details: { policy } });
    });
    return policy;
  }

  async getPolicy(name: string, alias: string): Promise<PromotionPolicy | undefined> {
    const model = await this.registry.requireModel(name);
    const row = await this.promotions.policy(Number(model.model_pk), alias);
    return row ? policyOf(row) : undefined;
  }

  async listPolicies(name: string): Promise<{ alias: string; policy: PromotionPolicy; updatedBy: string; updateTime: number }[]> {
    const model = await this.registry.requireModel(name);
    const rows = await this.promotions.policies(Number(model.model_pk));
    return rows.map((r) => ({ alias: r.alias, policy: policyOf(r), updatedBy: r.updated_by, updateTime: Number(r.update_time) }));
  }

  async deletePolicy(name: string, alias: string, actor: Actor): Promise<void> {
    const model = await this.registry.requireModel(name);
    const pk = Number(model.model_pk);
    const now = this.now();
    await this.history.tx(async (trx, record) => {
      await this.lock(trx, pk, model.name, now);
      if (!(await this.promotions.deletePolicy(trx, pk, alias))) throw notFound(`No promotion policy for alias '${alias}' of '${model.name}'.`);
      await record({ modelPk: pk, kind: 'policy_set', alias, actor: actor.user, time: now, details: { policy: null } });
    });
  }

  // ------------------------------------------------------------------ promotions
  /**
   * Evaluates the policy of `alias` for the version and moves the alias when every gate passes (or opens a request
   * for approval when the policy asks for one). `dryRun` evaluates without recording or moving anything.
   */
  async promote(name: string, version: string | number, alias: string, actor: Actor, opts: { reason?: string; dryRun?: boolean } = {}): Promise<PromotionOutcome> {
    const a = validateAlias(alias);
    const row = await this.registry.requireVersion(name, version);
    refuseNotReady(row, `promote version ${row.version} to '${a}'`);
    const pk = Number(row.model_pk);
    const v = Number(row.version);
    const policyRow = await this.promotions.policy(pk, a);
    const policy = policyRow ? policyOf(policyRow) : undefined;
    const champion = await this.store.aliasVersion(pk, a);
    const gates = await this.evaluate(row.name, v, champion, policy);
    const failed = gates.filter((g) => !g.passed);
    const base = { name: row.name, version: String(v), alias: a, championVersion: champion === undefined ? null : String(champion), gates, dryRun: opts.dryRun === true };
    const needsApproval = failed.length === 0 && policy?.require_approval === true;
    if (opts.dryRun) {
      const status: PromotionStatus = failed.length ? 'REJECTED' : needsApproval ? 'PENDING_APPROVAL' : 'PROMOTED';
      return { ...base, requestId: null, status, message: summary(status, failed, a, v) };
    }
    const now = this.now();
    const reason = opts.reason ?? null;
    return this.history.tx(async (trx, record) => {
      await this.lock(trx, pk, row.name, now);
      if (!(await this.store.versionRow(pk, v, trx))) throw notFound(`Model Version (name=${row.name}, version=${v}) not found`);
      const insert = (status: PromotionStatus) =>
        this.promotions.insertRequest(trx, {
          model_pk: pk,
          version: v,
          alias: a,
          status,
          requested_by: actor.user,
          request_time: now,
          decided_by: status === 'PENDING_APPROVAL' ? null : actor.user,
          decision_time: status === 'PENDING_APPROVAL' ? null : now,
          reason,
          evaluation: JSON.stringify(gates),
        });
      const stale = await this.staleness(trx, pk, a, champion, policyRow);
      if (stale || failed.length) {
        const why = stale ?? `${failed.length} of ${gates.length} gates failed: ${failed.map((g) => g.gate).join('; ')}`;
        const id = await insert('REJECTED');
        await record({ modelPk: pk, version: v, kind: 'promotion_rejected', alias: a, actor: actor.user, time: now, reason: why, details: { request_id: id, gates } });
        return { ...base, requestId: id, status: 'REJECTED', message: why };
      }
      if (needsApproval) {
        const id = await insert('PENDING_APPROVAL');
        await record({ modelPk: pk, version: v, kind: 'promotion_requested', alias: a, actor: actor.user, time: now, reason, details: { request_id: id, gates } });
        return { ...base, requestId: id, status: 'PENDING_APPROVAL', message: `every gate passed; the policy requires approval by a user other than ${actor.user}: approve request ${id}` };
      }
      const id = await insert('PROMOTED');
      await this.moveAlias(trx, record, pk, v, a, champion, actor, now, reason, { promotion_request: id });
      return { ...base, requestId: id, status: 'PROMOTED', message: moved(a, v, champion) };
    });
  }

  async approve(name: string, requestId: number, actor: Actor, reason?: string): Promise<PromotionOutcome> {
    const model = await this.registry.requireModel(name);
    const req = await this.pendingRequest(model.name, Number(model.model_pk), requestId);
    if (req.requested_by === actor.user) {
      throw new KilnError('PERMISSION_DENIED', `Request ${requestId} was made by ${actor.user}; a different user must approve it.`);
    }
    const pk = Number(req.model_pk);
    const v = Number(req.version);
    const policyRow = await this.promotions.policy(pk, req.alias);
    const champion = await this.store.aliasVersion(pk, req.alias);
    const gates = await this.evaluate(model.name, v, champion, policyRow ? policyOf(policyRow) : undefined);
    const base = { name: model.name, version: String(v), alias: req.alias, championVersion: champion === undefined ? null : String(champion), gates, dryRun: false };
    const failed = gates.filter((g) => !g.passed);
    const now = this.now();
    return this.history.tx(async (trx, record) => {
      await this.lock(trx, pk, model.name, now);
      // The version may have been deleted since it was evaluated: the alias cannot point to it.
      if (!(await this.store.versionRow(pk, v, trx))) throw notFound(`Model Version (name=${model.name}, version=${v}) not found`);
      const stale = await this.staleness(trx, pk, req.alias, champion, policyRow);
      const rejectedWhy = stale ?? (failed.length ? `re-evaluated at approval: ${failed.map((g) => g.gate).join('; ')}` : undefined);
      const decided = await this.promotions.decide(trx, requestId, {
        status: rejectedWhy ? 'REJECTED' : 'PROMOTED',
        decided_by: actor.user,
        decision_time: now,
        reason: rejectedWhy ?? reason ?? null,
        evaluation: JSON.stringify(gates),
      });
      if (!decided) throw await this.alreadyDecided(trx, pk, requestId);
      if (rejectedWhy) {
        await record({ modelPk: pk, version: v, kind: 'promotion_rejected', alias: req.alias, actor: actor.user, time: now, reason: stale ?? reason ?? null, details: { request_id: requestId, gates } });
        return { ...base, requestId, status: 'REJECTED', message: stale ?? summary('REJECTED', failed, req.alias, v) };
      }
      await record({ modelPk: pk, version: v, kind: 'promotion_approved', alias: req.alias, actor: actor.user, time: now, reason: reason ?? null, details: { request_id: requestId, requested_by: req.requested_by } });
      await this.moveAlias(trx, record, pk, v, req.alias, champion, actor, now, reason ?? null, { promotion_request: requestId, requested_by: req.requested_by });
      return { ...base, requestId, status: 'PROMOTED', message: moved(req.alias, v, champion) };
    });
  }

  async reject(name: string, requestId: number, actor: Actor, reason: string): Promise<PromotionRequest> {
    if (typeof reason !== 'string' || reason.trim() === '') throw invalid('A rejection needs a reason.');
    const model = await this.registry.requireModel(name);
    const pk = Number(model.model_pk);
    const req = await this.pendingRequest(model.name, pk, requestId);
    const now = this.now();
    await this.history.tx(async (trx, record) => {
      await this.lock(trx, pk, model.name, now);
      const decided = await this.promotions.decide(trx, requestId, { status: 'REJECTED', decided_by: actor.user, decision_time: now, reason, evaluation: req.evaluation });
      if (!decided) throw await this.alreadyDecided(trx, pk, requestId);
      await record({ modelPk: pk, version: Number(req.version), kind: 'promotion_rejected', alias: req.alias, actor: actor.user, time: now, reason, details: { request_id: requestId } });
    });
    return requestOf(model.name, (await this.promotions.request(pk, requestId))!);
  }

  async listRequests(name: string, status?: PromotionStatus): Promise<PromotionRequest[]> {
    const model = await this.registry.requireModel(name);
    const rows = await this.promotions.requests(Number(model.model_pk), status, 1000);
    return rows.map((r) => requestOf(model.name, r));
  }

  // ------------------------------------------------------------------ helpers
  /** Locks the model for the rest of the transaction (see RegistryStore.lockModel); 404 when it was deleted meanwhile. */
  private async lock(trx: Transaction<RegistryTables>, modelPk: number, name: string, now: number): Promise<void> {
    if (!(await this.store.lockModel(trx, modelPk, now))) throw notFound(`Registered Model with name=${name} not found`);
  }

  /**
   * Under the model's lock: why an evaluation made before the transaction no longer holds (the alias moved, or the
   * policy changed), or undefined when it still does.
   */
  private async staleness(trx: Transaction<RegistryTables>, modelPk: number, alias: string, champion: number | undefined, policy: PolicyRow | undefined): Promise<string | undefined> {
    const current = await this.store.aliasVersion(modelPk, alias, trx);
    if (current !== champion) {
      return `the alias moved to version ${current ?? 'none'} while this promotion was evaluated against version ${champion ?? 'none'}; promote again to compare with the new champion`;
    }
    const now = await this.promotions.policy(modelPk, alias, trx);
    if ((now?.policy ?? null) !== (policy?.policy ?? null)) return `the promotion policy of '${alias}' changed while this promotion was evaluated; promote again to apply the new policy`;
    return undefined;
  }

  private async moveAlias(
    trx: Transaction<RegistryTables>,
    record: RecordEvent,
    modelPk: number,
    version: number,
    alias: string,
    previous: number | undefined,
    actor: Actor,
    now: number,
    reason: string | null,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.store.setAlias(trx, modelPk, alias, version);
    await record({ modelPk, version, kind: 'alias_set', alias, actor: actor.user, time: now, reason, details: { previous_version: previous ?? null, ...details } });
  }

  /** The error for a request that another decision reached first (read in the same transaction). */
  private async alreadyDecided(trx: Transaction<RegistryTables>, modelPk: number, requestId: number): Promise<KilnError> {
    const now = await this.promotions.request(modelPk, requestId, trx);
    return new KilnError('INVALID_STATE', `Promotion request ${requestId} is ${now?.status ?? 'gone'}, not awaiting approval: another decision was made first.`);
  }

  private async pendingRequest(name: string, modelPk: number, requestId: number): Promise<RequestRow> {
    if (!Number.isSafeInteger(requestId) || requestId < 1) throw invalid(`Invalid promotion request id ${String(requestId)}.`);
    const req = await this.promotions.request(modelPk, requestId);
    if (!req) throw notFound(`No promotion request ${requestId} for '${name}'.`);
    if (req.status !== 'PENDING_APPROVAL') throw new KilnError('INVALID_STATE', `Promotion request ${requestId} is ${req.status}, not awaiting approval.`);
    return req;
  }

  private async evaluate(name: string, version: number, champion: number | undefined, policy: PromotionPolicy | undefined): Promise<GateResult[]> {
    const candidate = await this.registry.getVersion(name, version);
    const gates: GateResult[] = [];
    gates.push(
      candidate.status === 'READY'
        ? { gate: 'version is READY', passed: true, message: 'passed' }
        : { gate: 'version is READY', passed: false, message: `failed: the version is ${candidate.status}${candidate.statusMessage ? ` (${candidate.statusMessage})` : ''}` },
    );
    if (!policy) return gates;
    const rules = policy.rules.map(parseRule);
    if (rules.length) {
      const ctx: RuleContext = {
        candidate: await this.runValues(candidate.runId),
        ...(champion !== undefined && champion !== version ? { champion: { version: String(champion), ...(await this.runValues((await this.registry.getVersion(name, champion)).runId)) } } : {}),
      };
      for (const r of rules) {
        const res: RuleResult = evaluateRule(r, ctx);
        gates.push({ gate: r.text, passed: res.passed, message: res.message, details: { left: res.left, right: res.right } });
      }
    }
    if (policy.require_data_validation) {
      if (!candidate.runId) gates.push({ gate: 'training data validated', passed: false, message: 'failed: the version has no source run, so its training data is unknown' });
      else if (!this.dataGate) gates.push({ gate: 'training data validated', passed: false, message: 'failed: data validation is not available on this server' });
      else {
        const r = await this.dataGate.check(candidate.runId);
        gates.push({ gate: 'training data validated', passed: r.passed, message: r.message, ...(r.details ? { details: r.details } : {}) });
      }
    }
    return gates;
  }

  private async runValues(runId: string | null): Promise<{ metrics: Map<string, number>; params: Map<string, string> }> {
    if (!runId) return { metrics: new Map(), params: new Map() };
    try {
      const run = await this.tracking.getRun(runId);
      return { metrics: new Map(run.data.metrics.map((m) => [m.key, m.value])), params: new Map(run.data.params.map((p) => [p.key, p.value])) };
    } catch (e) {
      if (e instanceof KilnError && e.code === 'RESOURCE_DOES_NOT_EXIST') return { metrics: new Map(), params: new Map() };
      throw e;
    }
  }
}

const policyOf = (r: PolicyRow): PromotionPolicy => JSON.parse(r.policy) as PromotionPolicy;

function requestOf(name: string, r: RequestRow): PromotionRequest {
  return {
    id: Number(r.request_pk),
    name,
    version: String(r.version),
    alias: r.alias,
    status: r.status as PromotionStatus,
    requestedBy: r.requested_by,
    requestTime: Number(r.request_time),
    decidedBy: r.decided_by,
    decisionTime: r.decision_time === null ? null : Number(r.decision_time),
    reason: r.reason,
    gates: JSON.parse(r.evaluation ?? '[]') as GateResult[],
  };
}

const moved = (alias: string, v: number, champion: number | undefined): string => `${alias} now points to version ${v}${champion !== undefined ? ` (was ${champion})` : ''}`;

function summary(status: PromotionStatus, failed: GateResult[], alias: string, v: number): string {
  if (status === 'REJECTED') return `${failed.length} gate${failed.length === 1 ? '' : 's'} failed: ${failed.map((g) => g.gate).join('; ')}`;
  if (status === 'PENDING_APPROVAL') return 'every gate passed; approval by a different user is required';
  return `every gate passed; ${alias} would move to version ${v}`;
}
