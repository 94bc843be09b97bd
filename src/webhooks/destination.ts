import { promises as dns, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { KilnError, invalid } from '../platform/errors.js';

/** Resolves a host name to every address it has (dns.lookup with `all`, the resolver connections use). */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/**
 * Addresses a webhook may not reach unless allowed: this machine, the local network, cloud metadata services and
 * everything that is not a unicast address of the public internet.
 */
const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", including 0.0.0.0 (reaches the local host on most systems)
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated)
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (private)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv6');
}

/** The IPv4 address an IPv6 address carries (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d), if any. */
function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const v4 = () => `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return v4();
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return v4();
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (with an optional dotted IPv4 tail), or undefined. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const b = tail[1]!.split('.').map(Number);
    text = text.slice(0, tail.index) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - left.length - right.length;
  if (fill < 0 || (rest === undefined && fill !== 0)) return undefined;
  const groups = [...left, ...Array<number>(fill).fill(0), ...right];
  return groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff) ? undefined : groups;
}

/** Why an address is internal (a short description), or undefined for a public unicast address. */
export function internalAddressKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 !== undefined) return internalAddressKind(v4);
    return INTERNAL.check(address, 'ipv6') ? 'a loopback, link-local, private or reserved address' : undefined;
  }
  return INTERNAL.check(address, 'ipv4') ? 'a loopback, link-local, private or reserved address' : undefined;
}

/** The host of a URL as a resolver takes it: lower case, without IPv6 brackets or a trailing dot. */
function hostOf(u: URL): string {
  let h = u.hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** How long the check of a new URL waits for its name to resolve. */
const CHECK_TIMEOUT_MS = 5000;

/** A destination a webhook may not reach; `code` lets callers tell it from network errors. */
export class DestinationRefused extends Error {
  readonly code = 'EDESTINATIONREFUSED';
}

/**
 * Which destinations webhooks may reach. By default only public unicast addresses: loopback, link-local, private,
 * carrier-grade NAT, multicast, unspecified and reserved addresses are refused (IPv4-mapped and NAT64 forms
 * included), unless the allow-list names the host, the address or a CIDR range holding it.
 *
 * Checked twice: when a webhook is created or its URL changed (a clear 400), and at every connection, by the
 * lookup the connection itself uses, so that a name that resolved to a public address at creation and to an
 * internal one later (DNS rebinding) is refused, and the connection goes to exactly the address that was checked.
 */
export class DestinationPolicy {
  private readonly hosts = new Set<string>();
  private readonly ranges = new BlockList();
  readonly allowList: readonly string[];

  constructor(allow: readonly string[] = [], private readonly resolver: Resolver = systemResolver) {
    this.allowList = allow;
    for (const raw of allow) {
      const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
      if (entry === '') continue;
      const slash = entry.indexOf('/');
      if (slash >= 0) {
        const net = entry.slice(0, slash).replace(/^\[(.*)\]$/, '$1');
        const bits = Number(entry.slice(slash + 1));
        const family = isIP(net);
        if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
          throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid entry '${raw}' in the webhook allow-list: expected a host name, an IP address or a CIDR range such as 10.0.0.0/8.`);
        }
        this.ranges.addSubnet(net, bits, family === 4 ? 'ipv4' : 'ipv6');
      } else if (isIP(entry)) {
        this.ranges.addAddress(entry, isIP(entry) === 4 ? 'ipv4' : 'ipv6');
      } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(entry)) {
        this.hosts.add(entry.replace(/\.$/, ''));
      } else {
        throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid entry '${raw}' in the webhook allow-list: expected a host name, an IP address or a CIDR range such as 10.0.0.0/8.`);
      }
    }
  }

  /** Parses the comma-separated allow-list of the configuration (KILN_WEBHOOK_ALLOWED_HOSTS). */
  static fromSetting(value: string | undefined, resolver?: Resolver): DestinationPolicy {
    return new DestinationPolicy((value ?? '').split(',').filter((s) => s.trim() !== ''), resolver);
  }

  /** Why `address` may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined {
    const kind = internalAddressKind(address);
    if (kind === undefined) return undefined;
    const family = isIP(address);
    if (family !== 0 && this.ranges.check(address, family === 4 ? 'ipv4' : 'ipv6')) return undefined;
    const v4 = family === 6 ? embeddedIpv4(address) : undefined;
    if (v4 !== undefined && this.ranges.check(v4, 'ipv4')) return undefined;
    return kind;
  }

  /**
   * The addresses to connect to for `hostname`, every one of them checked; throws DestinationRefused when one is
   * internal and not allowed (all of a name's addresses must pass: a client may pick any of them).
   */
  async resolve(hostname: string): Promise<readonly LookupAddress[]> {
    const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
    if (isIP(host)) {
      this.assertAllowed(host, host);
      return [{ address: host, family: isIP(host) }];
    }
    const addresses = await this.resolver(host);
    if (addresses.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
    if (!this.hosts.has(host)) for (const a of addresses) this.assertAllowed(host, a.address);
    return addresses;
  }

  /**
   * Checks a webhook URL when it is created or changed: a 400 when its host is, or resolves to, an internal address
   * that is not allowed. A name that does not resolve now is accepted (every delivery checks it again).
   */
  async checkUrl(url: string): Promise<void> {
    const host = hostOf(new URL(url));
    let timer: NodeJS.Timeout | undefined;
    try {
      // A resolver that does not answer does not hold the request: the name is checked again at every delivery.
      const slow = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('resolution timed out')), CHECK_TIMEOUT_MS)));
      await Promise.race([this.resolve(host), slow]);
    } catch (e) {
      if (e instanceof DestinationRefused) {
        throw invalid(`Invalid webhook URL: ${e.message} Webhooks may only reach public addresses unless the server's webhook allow-list (KILN_WEBHOOK_ALLOWED_HOSTS) names the host.`, { field: 'url' });
      }
      // Not resolvable now (no such name, no DNS): every delivery resolves and checks it again.
    } finally {
      clearTimeout(timer);
    }
  }

  /** A `lookup` for node:net connections that returns only checked addresses (net calls it for names, not IPs). */
  readonly lookup = (
    hostname: string,
    options: { family?: number | string; all?: boolean },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    this.resolve(hostname).then(
      (found) => {
        const want = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const list = want === 0 ? [...found] : found.filter((a) => a.family === want);
        if (list.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${want} address`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) callback(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (e: NodeJS.ErrnoException) => callback(e, '', 0),
    );
  };

  private assertAllowed(host: string, address: string): void {
    const why = this.refusal(address);
    if (why === undefined) return;
    const shown = host === address ? address : `${host} resolves to ${address}`;
    throw new DestinationRefused(`${shown}, ${why}, which webhooks may not reach.`);
  }
}
