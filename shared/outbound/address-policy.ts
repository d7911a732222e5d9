import ipaddr from 'ipaddr.js';

/**
 * Which network addresses Rein may connect to when it sends anything out (source connectors,
 * action targets, webhooks). Only public unicast addresses pass; loopback, private (RFC 1918 and
 * IPv6 unique-local), link-local (the instance metadata address 169.254.169.254 included), CGNAT,
 * multicast, broadcast, unspecified, reserved and the IPv6 transition forms (IPv4-mapped addresses
 * are judged as the IPv4 address they carry; NAT64, 6to4 and Teredo are refused outright) do not.
 *
 * The local stack may allow loopback for its demo services, and only by explicit configuration
 * (`OUTBOUND_ALLOW_LOOPBACK=true`, refused outside `REIN_ENV=local`).
 */
export interface OutboundPolicy {
  /** `http://` URLs are accepted (local stage only); deployed stages send over https only. */
  readonly allowHttp: boolean;
  /** Loopback addresses (127.0.0.0/8, ::1) are accepted (local stage only). */
  readonly allowLoopback: boolean;
}

/** The policy of every deployed stage: https to public unicast addresses only. */
export const STRICT_OUTBOUND_POLICY: OutboundPolicy = Object.freeze({
  allowHttp: false,
  allowLoopback: false,
});

/** Why an address is refused, or `null` when Rein may connect to it. */
export function refusalFor(address: string, policy: OutboundPolicy): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  }
  const range = parsed.range();
  if (range === 'unicast') return null;
  if (range === 'loopback' && policy.allowLoopback) return null;
  return `${range} address`;
}
