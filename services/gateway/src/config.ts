import { isIP } from 'node:net';
import { env, loadConfig, natsTlsEnv, serviceEnv } from '@conveyor/platform';
import { z } from 'zod';

const originList = z
  .string()
  .default('')
  .refine(
    (value) => value === '' || value.split(',').every((origin) => /^https?:\/\/[^/\s]+$/.test(origin.trim())),
    'expected comma-separated origins like https://shop.example.com (no path)',
  )
  .transform((value) => (value === '' ? [] : value.split(',').map((o) => o.trim())));

/** Addresses and CIDR ranges, comma-separated (`10.0.0.0/8,::1`). */
const proxyList = z
  .string()
  .default('')
  .transform((value) => (value.trim() === '' ? [] : value.split(',').map((p) => p.trim())))
  .refine(
    (entries) =>
      entries.every((entry) => {
        const [address = '', bits] = entry.split('/');
        const family = isIP(address);
        if (family === 0) return false;
        return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
      }),
    'expected comma-separated IP addresses or CIDR ranges like 10.0.0.0/8',
  );

const opsUrl = (fallback: string) => env.url(['http', 'https'], fallback);

/** Every variable gateway reads (names checked against the manifests: test/deploy). */
export const gatewayConfigShape = {
  ...serviceEnv,
  GATEWAY_HOST: env.host('127.0.0.1'),
  GATEWAY_PORT: env.port(8080),
  OPS_PORT: env.port(9104),
  USERS_ADDR: env.host('127.0.0.1:50051'),
  ORDERS_ADDR: env.host('127.0.0.1:50052'),
  NOTIFICATIONS_ADDR: env.host('127.0.0.1:50053'),
  USERS_OPS_URL: opsUrl('http://127.0.0.1:9101'),
  ORDERS_OPS_URL: opsUrl('http://127.0.0.1:9102'),
  NOTIFICATIONS_OPS_URL: opsUrl('http://127.0.0.1:9103'),
  GATEWAY_DEADLINE_MS: env.durationMs(3000),
  GATEWAY_CORS_ORIGINS: originList,
  GATEWAY_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
  GATEWAY_SSE_INTERVAL_MS: z.coerce.number().int().min(200).max(60_000).default(1000),
  GATEWAY_SSE_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(200),
  GATEWAY_SSE_MAX_PER_USER: z.coerce.number().int().min(1).max(1000).default(5),
  GATEWAY_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(512),
  GATEWAY_TRUSTED_PROXIES: proxyList,
  GATEWAY_SECURE_COOKIES: z.enum(['auto', 'always', 'never']).default('auto'),
  // Edge limits (ADR 0023), per client address (IPv6: per /64) and per account. Counted in NATS
  // KV when NATS_URL is set, so every replica shares them; else by each replica alone.
  NATS_URL: z
    .string()
    .refine(
      (v) => v.split(',').every((part) => /^nats:\/\/\S+$/.test(part.trim())),
      'expected nats://host:port, comma-separated',
    )
    .optional(),
  NATS_NKEY_SEED: env.nkeySeed(),
  ...natsTlsEnv(),
  GATEWAY_SIGNUPS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(10),
  GATEWAY_LOGINS_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(30),
  GATEWAY_LOGINS_PER_ACCOUNT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(10),
};

export function loadGatewayConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(gatewayConfigShape, source);
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
