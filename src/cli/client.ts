import { Option, type Command } from 'commander';
import { KilnClient } from '@kiln-mlops/sdk/client';

export interface ClientFlags {
  trackingUri?: string;
  json?: boolean;
}

/** Adds the options every client command shares. */
export function clientOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--tracking-uri <url>', 'Kiln server URL [env KILN_TRACKING_URI, MLFLOW_TRACKING_URI] (default http://127.0.0.1:5000)'))
    .option('--json', 'print JSON instead of a table');
}

export function clientFrom(flags: ClientFlags): KilnClient {
  return new KilnClient({ trackingUri: flags.trackingUri, maxAttempts: 2 });
}
