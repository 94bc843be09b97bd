import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { printJson } from '../cli/output.js';
import type { LineageEdge, LineageGraph, LineageNode } from './schemas.js';

/** Renders a lineage graph as a tree from its root (upstream: what each node came from; downstream: what it fed). */
export function renderTree(g: LineageGraph, dir: 'up' | 'down'): string {
  const nodes = new Map(g.nodes.map((n) => [n.id, n]));
  const next = (id: string): LineageEdge[] => g.edges.filter((e) => (dir === 'up' ? e.to === id : e.from === id));
  const describe = (n: LineageNode | undefined, id: string) => {
    if (!n) return id;
    const a = n.attributes;
    const extra = n.kind === 'run' ? ` (${String(a.status)})` : n.kind === 'model_version' ? ` (${String(a.status)})` : n.kind === 'dataset_version' ? ` sha256:${String(a.digest).slice(0, 12)}` : ` (not a Kiln dataset)`;
    return `${id}  ${n.label}${extra}`;
  };
  const lines = [describe(nodes.get(g.root), g.root)];
  const seen = new Set([g.root]);
  const walk = (id: string, prefix: string) => {
    const edges = next(id);
    edges.forEach((e, i) => {
      const last = i === edges.length - 1;
      const other = dir === 'up' ? e.from : e.to;
      const ctx = e.attributes?.context ? ` [${String(e.attributes.context)}]` : '';
      const again = seen.has(other);
      lines.push(`${prefix}${last ? '└─' : '├─'} ${e.relation}${ctx} ${describe(nodes.get(other), other)}${again ? ' (see above)' : ''}`);
      if (!again) {
        seen.add(other);
        walk(other, prefix + (last ? '   ' : '│  '));
      }
    });
  };
  walk(g.root, '');
  if (g.truncated) lines.push(`… stopped at ${g.nodes.length} nodes`);
  return lines.join('\n') + '\n';
}

export function registerLineageCommands(program: Command): void {
  clientOptions(
    program
      .command('lineage')
      .description('Show where a model version, run or dataset version came from (upstream) or what it fed (downstream)')
      .argument('<node>', 'models:/weather/3, models:/weather@champion, runs:/<run id> or datasets:/weather/2'),
  )
    .option('--direction <dir>', 'up (default) or down', 'up')
    .option('--depth <n>', 'hops to follow (1-10)', (v) => Number(v), 5)
    .action(async (node: string, flags: ClientFlags & { direction: string; depth: number }) => {
      if (flags.direction !== 'up' && flags.direction !== 'down') throw new Error('--direction must be up or down');
      const client = clientFrom(flags);
      const g = await client.http.json<LineageGraph>('GET', '/api/v1/lineage', undefined, { node, direction: flags.direction, depth: flags.depth });
      if (flags.json) return printJson(g);
      process.stdout.write(renderTree(g, flags.direction));
    });
}
