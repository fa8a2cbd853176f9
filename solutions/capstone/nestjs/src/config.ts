/**
 * Configuration, read once from the environment (The Twelve-Factor App, III. Config).
 * docs/service-contract.md lists the variables; bad values stop the process at start.
 */
export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string;
  dbPoolMax: number;
  dbAcquireTimeoutMs: number;
  corsOrigins: string[];
  rateLimitMax: number;
  rateLimitWindowMs: number;
  logLevel: string;
  readyTimeoutMs: number;
  shutdownTimeoutMs: number;
}

/** Injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  return {
    port: intEnv(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL,
    dbPoolMax: intEnv(env, 'DB_POOL_MAX', 4),
    dbAcquireTimeoutMs: intEnv(env, 'DB_ACQUIRE_TIMEOUT_MS', 5_000),
    corsOrigins: (env.CORS_ORIGINS || '').split(',').map((o) => o.trim()).filter(Boolean),
    rateLimitMax: intEnv(env, 'RATE_LIMIT_MAX', 100),
    rateLimitWindowMs: intEnv(env, 'RATE_LIMIT_WINDOW_MS', 60_000),
    logLevel: env.LOG_LEVEL || 'info',
    readyTimeoutMs: intEnv(env, 'READY_TIMEOUT_MS', 800), // under a probe's 1 s timeout
    shutdownTimeoutMs: intEnv(env, 'SHUTDOWN_TIMEOUT_MS', 8_000), // under Kubernetes' 30 s grace
  };
}
