import { KilnError, invalid, notFound } from '../platform/errors.js';
import type { Actor } from '../platform/actor.js';
import type { TrackingService } from '../tracking/service.js';
import type { RegistryService } from './service.js';
import { evaluateRule, parsePolicy, parseRule, type PromotionPolicy, type RuleContext, type RuleResult } from './policy.js';
import { validateAlias } from './validation.js';
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
 */
export class PromotionService {
  constructor(
    private readonly registry: RegistryService,
    private readonly tracking: TrackingService,
    private readonly dataGate: DataValidationGate | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  private get db() {
    return this.registry.store.db;
  }

  // ------------------------------------------------------------------ policies
  async setPolicy(name: string, alias: string, doc: unknown, actor: Actor): Promise<PromotionPolicy> {
    const model = await this.registry.requireModel(name);
    const a = validateAlias(alias);
    const policy = parsePolicy(doc);
    const pk = Number(model.model_pk);
    const now = this.now();
    await this.db
      .insertInto('promotion_policies')
      .values({ model_pk: pk, alias: a, policy: JSON.stringify(policy), updated_by: actor.user, update_time: now })
      .onConflict((oc) => oc.columns(['model_pk', 'alias']).doUpdateSet({ policy: JSON.stringify(policy), updated_by: actor.user, update_time: now }))
      .execute();
    await this.registry.recordEvent(model.name, { kind: 'policy_set', alias: a, actor: actor.user, details: { policy } });
    return policy;
  }

  async getPolicy(name: string, alias: string): Promise<PromotionPolicy | undefined> {
    const model = await this.registry.requireModel(name);
    return this.policyOf(Number(model.model_pk), alias);
  }

  async listPolicies(name: string): Promise<{ alias: string; policy: PromotionPolicy; updatedBy: string; updateTime: number }[]> {
    const model = await this.registry.requireModel(name);
    const rows = await this.db.selectFrom('promotion_policies').selectAll().where('model_pk', '=', Number(model.model_pk)).orderBy('alias').execute();
    return rows.map((r) => ({ alias: r.alias, policy: JSON.parse(r.policy) as PromotionPolicy, updatedBy: r.updated_by, updateTime: Number(r.update_time) }));
  }

  async deletePolicy(name: string, alias: string, actor: Actor): Promise<void> {
    const model = await this.registry.requireModel(name);
    const r = await this.db.deleteFrom('promotion_policies').where('model_pk', '=', Number(model.model_pk)).where('alias', '=', alias).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`No promotion policy for alias '${alias}' of '${model.name}'.`);
    await this.registry.recordEvent(model.name, { kind: 'policy_set', alias, actor: actor.user, details: { policy: null } });
  }

  private async policyOf(modelPk: number, alias: string): Promise<PromotionPolicy | undefined> {
    const row = await this.db.selectFrom('promotion_policies').select('policy').where('model_pk', '=', modelPk).where('alias', '=', alias).executeTakeFirst();
    return row ? (JSON.parse(row.policy) as PromotionPolicy) : undefined;
  }

  // ------------------------------------------------------------------ promotions
  /**
   * Evaluates the policy of `alias` for the version and moves the alias when every gate passes (or opens a request
   * for approval when the policy asks for one). `dryRun` evaluates without recording or moving anything.
   */
  async promote(name: string, version: string | number, alias: string, actor: Actor, opts: { reason?: string; dryRun?: boolean } = {}): Promise<PromotionOutcome> {
    const a = validateAlias(alias);
    const row = await this.registry.requireVersion(name, version);
    const pk = Number(row.model_pk);
    const v = Number(row.version);
    const policy = await this.policyOf(pk, a);
    const champion = await this.registry.store.aliasVersion(pk, a);
    const gates = await this.evaluate(row.name, v, champion, policy);
    const failed = gates.filter((g) => !g.passed);
    const base = { name: row.name, version: String(v), alias: a, championVersion: champion === undefined ? null : String(champion), gates, dryRun: opts.dryRun === true };
    const needsApproval = failed.length === 0 && policy?.require_approval === true;
    if (opts.dryRun) {
      const status: PromotionStatus = failed.length ? 'REJECTED' : needsApproval ? 'PENDING_APPROVAL' : 'PROMOTED';
      return { ...base, requestId: null, status, message: `dry run: ${summary(status, failed, a, v)}` };
    }
    if (failed.length) return this.finishRejected(pk, row.name, v, a, actor, gates, `${failed.length} of ${gates.length} gates failed: ${failed.map((g) => g.gate).join('; ')}`, base, opts.reason);
    if (needsApproval) {
      const id = await this.insertRequest(pk, v, a, 'PENDING_APPROVAL', actor, gates, opts.reason);
      await this.registry.recordEvent(row.name, { kind: 'promotion_requested', version: v, alias: a, actor: actor.user, reason: opts.reason ?? null, details: { request_id: id, gates } });
      return { ...base, requestId: id, status: 'PENDING_APPROVAL', message: `every gate passed; the policy requires approval by a user other than ${actor.user}: approve request ${id}` };
    }
    const id = await this.insertRequest(pk, v, a, 'PROMOTED', actor, gates, opts.reason);
    return this.move(pk, row.name, v, a, champion, actor, gates, id, base, opts.reason);
  }

  async approve(name: string, requestId: number, actor: Actor, reason?: string): Promise<PromotionOutcome> {
    const req = await this.pendingRequest(name, requestId);
    if (req.requested_by === actor.user) {
      throw new KilnError('PERMISSION_DENIED', `Request ${requestId} was made by ${actor.user}; a different user must approve it.`);
    }
    const pk = Number(req.model_pk);
    const v = Number(req.version);
    const modelName = (await this.registry.getVersion(name, v)).name;
    const policy = await this.policyOf(pk, req.alias);
    const champion = await this.registry.store.aliasVersion(pk, req.alias);
    const gates = await this.evaluate(modelName, v, champion, policy);
    const base = { name: modelName, version: String(v), alias: req.alias, championVersion: champion === undefined ? null : String(champion), gates, dryRun: false };
    const failed = gates.filter((g) => !g.passed);
    if (failed.length) {
      await this.decide(Number(req.request_pk), 'REJECTED', actor, `re-evaluated at approval: ${failed.map((g) => g.gate).join('; ')}`, gates);
      await this.registry.recordEvent(modelName, { kind: 'promotion_rejected', version: v, alias: req.alias, actor: actor.user, reason: reason ?? null, details: { request_id: requestId, gates } });
      return { ...base, requestId, status: 'REJECTED', message: summary('REJECTED', failed, req.alias, v) };
    }
    await this.registry.recordEvent(modelName, { kind: 'promotion_approved', version: v, alias: req.alias, actor: actor.user, reason: reason ?? null, details: { request_id: requestId, requested_by: req.requested_by } });
    await this.decide(Number(req.request_pk), 'PROMOTED', actor, reason ?? null, gates);
    return this.move(pk, modelName, v, req.alias, champion, actor, gates, requestId, base, reason, req.requested_by);
  }

  async reject(name: string, requestId: number, actor: Actor, reason: string): Promise<PromotionRequest> {
    if (typeof reason !== 'string' || reason.trim() === '') throw invalid('A rejection needs a reason.');
    const req = await this.pendingRequest(name, requestId);
    await this.decide(Number(req.request_pk), 'REJECTED', actor, reason, JSON.parse(req.evaluation ?? '[]') as GateResult[]);
    await this.registry.recordEvent(name, { kind: 'promotion_rejected', version: Number(req.version), alias: req.alias, actor: actor.user, reason, details: { request_id: requestId } });
    return (await this.listRequests(name)).find((r) => r.id === requestId)!;
  }

  async listRequests(name: string, status?: PromotionStatus): Promise<PromotionRequest[]> {
    const model = await this.registry.requireModel(name);
    let q = this.db.selectFrom('promotion_requests').selectAll().where('model_pk', '=', Number(model.model_pk));
    if (status) q = q.where('status', '=', status);
    const rows = await q.orderBy('request_pk', 'desc').limit(1000).execute();
    return rows.map((r) => ({
      id: Number(r.request_pk),
      name: model.name,
      version: String(r.version),
      alias: r.alias,
      status: r.status as PromotionStatus,
      requestedBy: r.requested_by,
      requestTime: Number(r.request_time),
      decidedBy: r.decided_by,
      decisionTime: r.decision_time === null ? null : Number(r.decision_time),
      reason: r.reason,
      gates: JSON.parse(r.evaluation ?? '[]') as GateResult[],
    }));
  }

  // ------------------------------------------------------------------ helpers
  private async move(
    pk: number,
    name: string,
    v: number,
    alias: string,
    champion: number | undefined,
    actor: Actor,
    gates: GateResult[],
    requestId: number,
    base: Omit<PromotionOutcome, 'requestId' | 'status' | 'message'>,
    reason?: string,
    requestedBy?: string,
  ): Promise<PromotionOutcome> {
    const moved = await this.registry.moveAlias(pk, alias, v, actor, reason, { promotion_request: requestId, ...(requestedBy ? { requested_by: requestedBy } : {}) }, [], champion ?? null);
    if (!moved.ok) {
      const message = `the alias moved to version ${moved.current ?? 'none'} while this promotion was evaluated against version ${champion ?? 'none'}; promote again to compare with the new champion`;
      await this.decide(requestId, 'REJECTED', actor, message, gates);
      await this.registry.recordEvent(name, { kind: 'promotion_rejected', version: v, alias, actor: actor.user, reason: message, details: { request_id: requestId, gates } });
      return { ...base, requestId, status: 'REJECTED', message };
    }
    return { ...base, requestId, status: 'PROMOTED', message: `${alias} now points to version ${v}${champion !== undefined ? ` (was ${champion})` : ''}` };
  }

  private async finishRejected(pk: number, name: string, v: number, alias: string, actor: Actor, gates: GateResult[], why: string, base: Omit<PromotionOutcome, 'requestId' | 'status' | 'message'>, reason?: string): Promise<PromotionOutcome> {
    const id = await this.insertRequest(pk, v, alias, 'REJECTED', actor, gates, reason);
    await this.registry.recordEvent(name, { kind: 'promotion_rejected', version: v, alias, actor: actor.user, reason: why, details: { request_id: id, gates } });
    return { ...base, requestId: id, status: 'REJECTED', message: why };
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

  private async insertRequest(pk: number, v: number, alias: string, status: PromotionStatus, actor: Actor, gates: GateResult[], reason?: string): Promise<number> {
    const now = this.now();
    const decided = status === 'PENDING_APPROVAL' ? {} : { decided_by: actor.user, decision_time: now };
    const row = await this.db
      .insertInto('promotion_requests')
      .values({ model_pk: pk, version: v, alias, status, requested_by: actor.user, request_time: now, reason: reason ?? null, evaluation: JSON.stringify(gates), ...decided })
      .returning('request_pk')
      .executeTakeFirstOrThrow();
    return Number(row.request_pk);
  }

  private async decide(requestPk: number, status: PromotionStatus, actor: Actor, reason: string | null, gates: GateResult[]): Promise<void> {
    await this.db
      .updateTable('promotion_requests')
      .set({ status, decided_by: actor.user, decision_time: this.now(), reason, evaluation: JSON.stringify(gates) })
      .where('request_pk', '=', requestPk)
      .execute();
  }

  private async pendingRequest(name: string, requestId: number) {
    const model = await this.registry.requireModel(name);
    if (!Number.isSafeInteger(requestId) || requestId < 1) throw invalid(`Invalid promotion request id ${String(requestId)}.`);
    const req = await this.db.selectFrom('promotion_requests').selectAll().where('model_pk', '=', Number(model.model_pk)).where('request_pk', '=', requestId).executeTakeFirst();
    if (!req) throw notFound(`No promotion request ${requestId} for '${model.name}'.`);
    if (req.status !== 'PENDING_APPROVAL') throw new KilnError('INVALID_STATE', `Promotion request ${requestId} is ${req.status}, not awaiting approval.`);
    return req;
  }
}

function summary(status: PromotionStatus, failed: GateResult[], alias: string, v: number): string {
  if (status === 'REJECTED') return `${failed.length} gate${failed.length === 1 ? '' : 's'} failed: ${failed.map((g) => g.gate).join('; ')}`;
  if (status === 'PENDING_APPROVAL') return 'every gate passed; approval by a different user is required';
  return `every gate passed; ${alias} would move to version ${v}`;
}
