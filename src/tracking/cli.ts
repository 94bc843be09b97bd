import type { Command } from 'commander';
import { registerExperimentCommands } from './cli-experiments.js';
import { registerRunCommands } from './cli-runs.js';

/** `kiln experiments …` and `kiln runs …`. */
export function registerTrackingCommands(program: Command): void {
  registerExperimentCommands(program);
  registerRunCommands(program);
}
