import pg from 'pg';

/** Whether `select 1` succeeds on `url` within about `timeoutMs`. */
export async function probePostgres(url: string, timeoutMs = 1500): Promise<boolean> {
  let client: pg.Client;
  try {
    client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
    });
  } catch {
    return false;
  }
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
