import { Option, type Command } from 'commander';
import type { KilnClient } from '@kiln-mlops/sdk/client';

export interface ClientFlags {
  trackingUri?: string;
  json?: boolean;
}

export const DEFAULT_TRACKING_URI = 'http://127.0.0.1:5000';

/** The SDK's client class, imported when a client command is about to run (`--help` and the server never need it). */
let Client: typeof KilnClient | undefined;

/** Adds the options every client command shares, and the SDK, loaded before its action runs (see clientFrom). */
export function clientOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--tracking-uri <url>', `Kiln server URL, e.g. http://127.0.0.1:5000 or 127.0.0.1:5000 [env KILN_TRACKING_URI, MLFLOW_TRACKING_URI] (default ${DEFAULT_TRACKING_URI})`))
    .option('--json', 'print JSON instead of a table')
    .hook('preAction', async () => {
      Client ??= (await import('@kiln-mlops/sdk/client')).KilnClient;
    });
}

/** A tracking URI the CLI cannot use; main() prints its message. */
export class TrackingUriError extends Error {
  override name = 'TrackingUriError';
}

/**
 * The server URL from the flag, KILN_TRACKING_URI, MLFLOW_TRACKING_URI or the default. `host:port` without a scheme
 * means http://host:port; any scheme other than http(s) is refused with the form expected.
 */
export function trackingUriFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const [raw, from] =
    flag !== undefined ? [flag, '--tracking-uri'] : env.KILN_TRACKING_URI ? [env.KILN_TRACKING_URI, 'KILN_TRACKING_URI'] : env.MLFLOW_TRACKING_URI ? [env.MLFLOW_TRACKING_URI, 'MLFLOW_TRACKING_URI'] : [DEFAULT_TRACKING_URI, 'the default'];
  const value = raw.trim();
  const expected = 'expected the URL of a Kiln server, such as http://127.0.0.1:5000, https://kiln.example.com or 127.0.0.1:5000';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') throw new TrackingUriError(`${from} '${raw}' uses the scheme ${scheme}://: ${expected}`);
  const url = scheme === undefined ? `http://${value}` : value;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TrackingUriError(`${from} '${raw}' is not a URL: ${expected}`);
  }
  if (value === '' || parsed.hostname === '' || parsed.search || parsed.hash) throw new TrackingUriError(`${from} '${raw}' is not a server URL: ${expected}`);
  return url.replace(/\/+$/, '');
}

let target: string | undefined;

/** The server URL the last client was made for (named by the error printed when it cannot be reached). */
export function serverTarget(): string | undefined {
  return target;
}

/** The client for a command's flags; from the action of a command made with clientOptions, which loaded the SDK. */
export function clientFrom(flags: ClientFlags): KilnClient {
  target = trackingUriFrom(flags.trackingUri);
  if (!Client) throw new Error('clientFrom() is for the actions of commands made with clientOptions()');
  return new Client({ trackingUri: target, maxAttempts: 2 });
}
