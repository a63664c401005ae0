import { writeFileSync } from 'node:fs';

/**
 * A node:test reporter that counts leaf tests (suites are not tests) and
 * writes {passed, failed, skipped, failures} as JSON to the path in
 * CONVEYOR_TEST_SUMMARY when the run ends. A file that crashes before
 * registering tests counts as one failure.
 */
export default async function* summaryReporter(source: AsyncIterable<{ type: string; data: unknown }>) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures: string[] = [];
  for await (const event of source) {
    const data = event.data as {
      name?: string;
      file?: string;
      skip?: unknown;
      todo?: unknown;
      details?: { type?: string };
    };
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (data.details?.type === 'suite') continue;
    if (event.type === 'test:pass') {
      if (data.skip !== undefined || data.todo !== undefined) skipped++;
      else passed++;
    } else {
      failed++;
      failures.push(`${data.file ?? ''} › ${data.name ?? ''}`);
    }
  }
  const path = process.env.CONVEYOR_TEST_SUMMARY;
  if (path) writeFileSync(path, JSON.stringify({ passed, failed, skipped, failures }));
  yield '';
}
