import type { DataService } from '../data/service.js';
import type { TrackingService } from '../tracking/service.js';
import type { DataValidationGate } from './promotions.js';

/**
 * The promotion gate "training data validated": the candidate run's training inputs (dataset inputs with context
 * `training`; every input when none says) must be Kiln dataset versions whose latest validation passed.
 */
export function trainingDataGate(tracking: TrackingService, data: DataService): DataValidationGate {
  return {
    async check(runId) {
      const inputs = await tracking.datasetInputsOf([runId]);
      const training = inputs.some((i) => i.context === 'training') ? inputs.filter((i) => i.context === 'training') : inputs;
      if (training.length === 0) return { passed: false, message: `failed: run ${runId} logged no dataset inputs, so its training data cannot be checked` };
      const versions = await data.versionsByDigests(training.map((i) => i.digest));
      const problems: string[] = [];
      const checked: Record<string, unknown>[] = [];
      for (const i of training) {
        const v = versions.find((x) => x.digest === i.digest || x.mlflowDigest === i.digest);
        if (!v) {
          problems.push(`${i.name} (${i.digest}) is not a Kiln dataset version`);
          continue;
        }
        const report = await data.validationsOf(v.name, v.version);
        checked.push({ dataset: `${v.name}@v${v.version}`, validation: report ? { id: report.id, ok: report.ok, errors: report.errors, schema: report.schemaRef } : null });
        if (!report) problems.push(`${v.name}@v${v.version} has never been validated`);
        else if (!report.ok) problems.push(`${v.name}@v${v.version} failed its latest validation against ${report.schemaRef} (${report.errors} error${report.errors === 1 ? '' : 's'})`);
      }
      return problems.length
        ? { passed: false, message: `failed: ${problems.join('; ')}`, details: { checked } }
        : { passed: true, message: `passed: ${checked.map((c) => String(c.dataset)).join(', ')} validated`, details: { checked } };
    },
  };
}
