import type { ArtifactStore } from '../platform/artifacts/types.js';
import { storePrefixOf } from '../platform/artifacts/path.js';
import { artifactStoreReader, inspectModelPackage } from './packaging/inspect-package.js';
import type { InspectionOutcome, VersionInspector } from './service.js';

/**
 * Inspects versions whose files live in the server's artifact store (mlflow-artifacts: locations): MLmodel,
 * ONNX model loaded in a worker thread, signature check; nothing there is FAILED_REGISTRATION. Files in external
 * storage (s3://other-bucket, dbfs:, ...; sources.ts refuses other schemes) are registered as they are: READY, not
 * servable, nothing read, and the status message says so.
 */
export class ArtifactVersionInspector implements VersionInspector {
  constructor(private readonly artifacts: ArtifactStore) {}

  async inspect(location: string): Promise<InspectionOutcome> {
    const prefix = storePrefixOf(location);
    if (prefix === undefined) {
      const reason = `the files live at ${location}, outside this server's artifact store: registered without inspection`;
      return { status: 'READY', statusMessage: reason, servable: false, package: { flavors: [], servable: false, not_servable_reason: reason, warnings: [] } };
    }
    const r = await inspectModelPackage(artifactStoreReader(this.artifacts), prefix);
    return {
      status: r.status,
      ...(r.status_message !== undefined ? { statusMessage: r.status_message } : {}),
      servable: r.servable,
      package: r,
    };
  }
}
