import { currentAccess, roleOn, type AccessSet } from '../platform/auth/access.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import { invalid, notFound } from '../platform/errors.js';
import type { TrackingService } from '../tracking/service.js';
import type { RunDatasetLink } from '../tracking/types.js';
import type { RegistryService } from '../registry/service.js';
import type { LineageDirection, LineageEdge, LineageGraph, LineageNode, LineageNodeKind, LineageRelation } from './schemas.js';

/**
 * The lineage graph: dataset versions, runs and model versions as nodes; `used-by` (dataset version → run),
 * `parent-of` (run → nested run) and `registered-from` (run → model version) as edges. Nothing is copied: each hop
 * asks the owning capability for the neighbours of the whole frontier at once (one indexed query per relation), so a
 * depth-5 walk costs a few dozen queries whatever the graph's size. Dataset inputs whose digest matches no Kiln
 * dataset version (MLflow datasets) appear as `external_dataset` nodes.
 */

export type { LineageEdge, LineageGraph, LineageNode } from './schemas.js';
export type NodeKind = LineageNodeKind;
export type Relation = LineageRelation;
export type Direction = LineageDirection;

/** A Kiln dataset version as lineage sees it. */
export interface DatasetVersionRef {
  readonly name: string;
  readonly version: number;
  readonly digest: string;
  readonly mlflowDigest: string;
  readonly rows?: number;
}

/** What lineage needs from the data capability. */
export interface DatasetLookup {
  /** Versions whose digest or mlflow_digest is one of these. */
  byDigests(digests: readonly string[]): Promise<DatasetVersionRef[]>;
  get(name: string, version: number): Promise<DatasetVersionRef | undefined>;
}

export const MAX_DEPTH = 10;
export const MAX_NODES = 5000;

export const nodeId = {
  run: (runId: string) => `runs:/${runId}`,
  model: (name: string, version: string | number) => `models:/${name}/${version}`,
  dataset: (name: string, version: number) => `datasets:/${name}/${version}`,
  external: (digest: string) => `dataset-digest:${digest}`,
};

type Parsed = { kind: 'run'; runId: string } | { kind: 'model_version'; name: string; version: string } | { kind: 'model_alias'; name: string; alias: string } | { kind: 'dataset_version'; name: string; version: number } | { kind: 'external_dataset'; digest: string };

/** Node references: runs:/<id>, models:/<name>/<version>, models:/<name>@<alias>, datasets:/<name>/<version> (or @v3), dataset-digest:<digest>. */
export function parseNode(ref: string): Parsed {
  if (typeof ref !== 'string' || ref === '') throw invalid('A lineage node is a reference such as models:/weather/3, runs:/<run id> or datasets:/weather/2.');
  let m = /^runs:\/+([A-Za-z0-9][\w-]{0,255})\/?$/.exec(ref);
  if (m) return { kind: 'run', runId: m[1]! };
  m = /^models:\/+(.+)\/([1-9]\d{0,9})$/.exec(ref);
  if (m) return { kind: 'model_version', name: m[1]!, version: m[2]! };
  m = /^models:\/+([^@/]+)@([\w-]+)$/.exec(ref);
  if (m) return { kind: 'model_alias', name: m[1]!, alias: m[2]! };
  m = /^datasets:\/+(.+?)(?:\/v?|@v?)([1-9]\d{0,9})$/.exec(ref);
  if (m) return { kind: 'dataset_version', name: m[1]!, version: Number(m[2]) };
  m = /^dataset-digest:([\w-]{1,64})$/.exec(ref);
  if (m) return { kind: 'external_dataset', digest: m[1]! };
  throw invalid(`Invalid lineage node '${ref}': expected models:/<name>/<version>, models:/<name>@<alias>, runs:/<run id>, datasets:/<name>/<version> or dataset-digest:<digest>.`);
}

class Walk {
  readonly nodes = new Map<string, LineageNode>();
  readonly edges = new Map<string, LineageEdge>();
  truncated = false;
  /** Per node: what later hops need (run id, dataset digests, model run). */
  readonly runs = new Set<string>();
  readonly datasets = new Map<string, DatasetVersionRef>();
  readonly models = new Map<string, { runId: string | null }>();

  addNode(n: LineageNode): boolean {
    if (this.nodes.has(n.id)) return false;
    if (this.nodes.size >= MAX_NODES) {
      this.truncated = true;
      return false;
    }
    this.nodes.set(n.id, n);
    return true;
  }

  addEdge(e: LineageEdge): void {
    if (!this.nodes.has(e.from) || !this.nodes.has(e.to)) return;
    this.edges.set(`${e.from}|${e.relation}|${e.to}`, e);
  }
}

export class LineageService {
  constructor(
    private readonly tracking: TrackingService,
    private readonly registry: RegistryService,
    private readonly data: DatasetLookup | undefined,
    /** Who owns what (none: every node is shown; with one, only what the caller may read). */
    private readonly resources?: ResourceDirectory,
  ) {}

  /** Whether the caller may read the resource behind a node (external datasets are the runs' that name them: shown). */
  private async readable(node: { kind: NodeKind; attributes: Record<string, unknown> }, access: AccessSet): Promise<boolean> {
    if (access.all || !this.resources) return true;
    const ref = node.kind === 'run' ? (['run', node.attributes.run_id] as const) : node.kind === 'model_version' ? (['registered-model', node.attributes.name] as const) : node.kind === 'dataset_version' ? (['dataset', node.attributes.name] as const) : undefined;
    if (!ref) return true;
    const owner = await this.resources.resolve(ref[0], String(ref[1]));
    if (!owner) return false;
    const grant = owner.experimentId !== undefined ? access.experiments.get(owner.experimentId) : owner.registeredModel !== undefined ? access.registeredModels.get(owner.registeredModel) : undefined;
    return roleOn(access, owner.projectId, grant) !== undefined;
  }

  /** Who owns a lineage node: the run, registered model or dataset it names (an external dataset: the first run that logged it). */
  registerResolver(resources: ResourceDirectory): void {
    resources.register('lineage-node', async (ref) => {
      let p: Parsed;
      try {
        p = parseNode(ref);
      } catch {
        return undefined;
      }
      switch (p.kind) {
        case 'run':
          return resources.resolve('run', p.runId);
        case 'model_version':
        case 'model_alias':
          return resources.resolve('registered-model', p.name);
        case 'dataset_version':
          return resources.resolve('dataset', p.name);
        case 'external_dataset': {
          const first = (await this.tracking.runsUsingDigests([p.digest]))[0];
          return first ? resources.resolve('run', first.runId) : undefined;
        }
      }
    });
  }

  /** The graph without the nodes the caller may not read and the edges that touch them; 404 when the root is one. */
  private async visible(graph: LineageGraph): Promise<LineageGraph> {
    const access = currentAccess();
    if (access.all || !this.resources) return graph;
    const keep = new Set<string>();
    for (const n of graph.nodes) if (await this.readable(n, access)) keep.add(n.id);
    if (!keep.has(graph.root)) throw notFound(`No such node: ${graph.root}`);
    return { ...graph, nodes: graph.nodes.filter((n) => keep.has(n.id)), edges: graph.edges.filter((e) => keep.has(e.from) && keep.has(e.to)) };
  }

  async graph(ref: string, opts: { direction?: Direction; depth?: number } = {}): Promise<LineageGraph> {
    const direction = opts.direction ?? 'up';
    if (!['up', 'down', 'both'].includes(direction)) throw invalid(`Invalid direction '${String(direction)}': expected up, down or both.`);
    const depth = opts.depth ?? 3;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) throw invalid(`Invalid depth ${String(depth)}: expected an integer from 1 to ${MAX_DEPTH}.`);
    const w = new Walk();
    const root = await this.rootNode(parseNode(ref), w);
    if (direction === 'up' || direction === 'both') await this.walk(w, [root], depth, 'up');
    if (direction === 'down' || direction === 'both') await this.walk(w, [root], depth, 'down');
    return this.visible({ root, direction, depth, nodes: [...w.nodes.values()], edges: [...w.edges.values()], truncated: w.truncated });
  }

  private async rootNode(p: Parsed, w: Walk): Promise<string> {
    switch (p.kind) {
      case 'run': {
        await this.tracking.getRunInfo(p.runId); // 404 for an unknown run
        await this.addRuns(w, [p.runId]);
        return nodeId.run(p.runId);
      }
      case 'model_alias':
      case 'model_version': {
        const v = p.kind === 'model_alias' ? await this.registry.getVersionByAlias(p.name, p.alias) : await this.registry.getVersion(p.name, p.version);
        this.addModel(w, { name: v.name, version: v.version, runId: v.runId, status: v.status, stage: v.currentStage, servable: v.servable });
        return nodeId.model(v.name, v.version);
      }
      case 'dataset_version': {
        if (!this.data) throw invalid('Datasets are not available on this server.');
        const d = await this.data.get(p.name, p.version);
        if (!d) throw notFound(`No dataset version ${p.name}@v${p.version}.`);
        this.addDataset(w, d);
        return nodeId.dataset(d.name, d.version);
      }
      case 'external_dataset': {
        const runs = await this.tracking.runsUsingDigests([p.digest]);
        const first = runs[0];
        w.addNode({ id: nodeId.external(p.digest), kind: 'external_dataset', label: first ? `${first.name} (${p.digest})` : p.digest, attributes: { digest: p.digest, ...(first ? { name: first.name, source_type: first.sourceType, source: first.source } : {}) } });
        return nodeId.external(p.digest);
      }
    }
  }

  private async walk(w: Walk, start: string[], depth: number, dir: 'up' | 'down'): Promise<void> {
    let frontier = start;
    for (let d = 0; d < depth && frontier.length > 0 && !w.truncated; d++) {
      const next: string[] = [];
      const kinds = (k: NodeKind) => frontier.filter((id) => w.nodes.get(id)?.kind === k);
      const runIds = kinds('run').map((id) => id.slice('runs:/'.length));
      if (dir === 'up') {
        // model version ← run
        const fromModels = kinds('model_version').flatMap((id) => {
          const runId = w.models.get(id)?.runId;
          return runId ? [{ id, runId }] : [];
        });
        const added = await this.addRuns(w, fromModels.map((x) => x.runId));
        for (const x of fromModels) w.addEdge({ from: nodeId.run(x.runId), to: x.id, relation: 'registered-from' });
        next.push(...added);
        // run ← parent run
        const parents = await this.tracking.parentRuns(runIds);
        next.push(...(await this.addRuns(w, parents.map((p) => p.parentRunId))));
        for (const p of parents) w.addEdge({ from: nodeId.run(p.parentRunId), to: nodeId.run(p.runId), relation: 'parent-of' });
        // run ← dataset versions
        const inputs = await this.tracking.datasetInputsOf(runIds);
        next.push(...(await this.addInputs(w, inputs)));
      } else {
        // dataset version → runs
        const digests = [...kinds('dataset_version').flatMap((id) => {
          const d = w.datasets.get(id);
          return d ? [d.digest, d.mlflowDigest] : [];
        }), ...kinds('external_dataset').map((id) => id.slice('dataset-digest:'.length))];
        const users = await this.tracking.runsUsingDigests([...new Set(digests)]);
        next.push(...(await this.addRuns(w, users.map((u) => u.runId))));
        next.push(...(await this.addInputs(w, users)));
        // run → child runs
        const children = await this.tracking.childRuns(runIds);
        next.push(...(await this.addRuns(w, children.map((c) => c.runId))));
        for (const c of children) w.addEdge({ from: nodeId.run(c.parentRunId), to: nodeId.run(c.runId), relation: 'parent-of' });
        // run → model versions
        const versions = await this.registry.versionsOfRuns(runIds);
        for (const v of versions) {
          if (this.addModel(w, v)) next.push(nodeId.model(v.name, v.version));
          w.addEdge({ from: nodeId.run(v.runId), to: nodeId.model(v.name, v.version), relation: 'registered-from' });
        }
      }
      frontier = [...new Set(next)];
    }
  }

  /** Adds the dataset nodes of run inputs (Kiln versions when the digest matches, external otherwise) and their used-by edges. */
  private async addInputs(w: Walk, inputs: readonly RunDatasetLink[]): Promise<string[]> {
    if (inputs.length === 0) return [];
    const known = this.data ? await this.data.byDigests([...new Set(inputs.map((i) => i.digest))]) : [];
    const byDigest = new Map<string, DatasetVersionRef>();
    for (const d of known) {
      byDigest.set(d.digest, d);
      byDigest.set(d.mlflowDigest, d);
    }
    const added: string[] = [];
    for (const i of inputs) {
      const d = byDigest.get(i.digest);
      let id: string;
      if (d) {
        id = nodeId.dataset(d.name, d.version);
        if (this.addDataset(w, d)) added.push(id);
      } else {
        id = nodeId.external(i.digest);
        if (w.addNode({ id, kind: 'external_dataset', label: `${i.name} (${i.digest})`, attributes: { name: i.name, digest: i.digest, source_type: i.sourceType, source: i.source } })) added.push(id);
      }
      w.addEdge({ from: id, to: nodeId.run(i.runId), relation: 'used-by', attributes: { context: i.context, dataset_name: i.name } });
    }
    return added;
  }

  private async addRuns(w: Walk, runIds: readonly string[]): Promise<string[]> {
    const fresh = [...new Set(runIds)].filter((id) => !w.nodes.has(nodeId.run(id)));
    const added: string[] = [];
    for (const r of await this.tracking.runSummaries(fresh)) {
      const id = nodeId.run(r.runId);
      if (w.addNode({ id, kind: 'run', label: r.runName, attributes: { run_id: r.runId, experiment_id: r.experimentId, status: r.status, lifecycle_stage: r.lifecycleStage, start_time: r.startTime, end_time: r.endTime } })) {
        w.runs.add(r.runId);
        added.push(id);
      }
    }
    return added;
  }

  private addModel(w: Walk, v: { name: string; version: string; runId: string | null; status: string; stage: string; servable: boolean }): boolean {
    const id = nodeId.model(v.name, v.version);
    const ok = w.addNode({ id, kind: 'model_version', label: `${v.name} v${v.version}`, attributes: { name: v.name, version: Number(v.version), run_id: v.runId, status: v.status, stage: v.stage, servable: v.servable } });
    if (ok) w.models.set(id, { runId: v.runId });
    return ok;
  }

  private addDataset(w: Walk, d: DatasetVersionRef): boolean {
    const id = nodeId.dataset(d.name, d.version);
    const ok = w.addNode({ id, kind: 'dataset_version', label: `${d.name}@v${d.version}`, attributes: { name: d.name, version: d.version, digest: d.digest, ...(d.rows !== undefined ? { rows: d.rows } : {}) } });
    if (ok) w.datasets.set(id, d);
    return ok;
  }
}
