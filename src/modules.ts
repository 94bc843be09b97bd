import type { Capability } from './platform/capability.js';
import { trackingCapability } from './tracking/module.js';
import { dataCapability } from './data/module.js';
import { registryCapability } from './registry/module.js';
import { lineageCapability } from './lineage/module.js';
import { webhooksCapability } from './webhooks/module.js';
import { mlflowCapability } from './mlflow/module.js';
import { governanceCapability } from './governance/module.js';
import { servingCapability } from './serving/module.js';
import { monitoringCapability } from './monitoring/module.js';

/**
 * Every capability the server runs and the CLI offers: adding one is a folder with its module.ts and a line here.
 * The server orders them by their declared dependencies.
 */
export const MODULES: readonly Capability[] = [trackingCapability, dataCapability, registryCapability, lineageCapability, webhooksCapability, mlflowCapability, governanceCapability, servingCapability, monitoringCapability];
