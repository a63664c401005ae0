// Test support for every tier, in one place: throwaway infrastructure, signed-in users, gRPC
// clients built from the protos, and receivers for what the system sends out (spans, metrics).
// A service's own harness lives in its src/testing/ folder (docs/architecture.md, "Test support").

export { type RawMail, type SmtpReply, sendRawMail } from '../raw-smtp.ts';
export {
  type TestDatabase,
  type TestNats,
  testAdminUrl,
  testDatabase,
  testDatabaseName,
  testNats,
  testSmtpSink,
} from '../throwaway.ts';
export { logIn, type SignedIn, signInAdmin, signUp, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD } from './auth.ts';
export { makeTestCertificates, type TestCertificates } from './certificates.ts';
export {
  type ApiName,
  apiClient,
  call,
  callAs,
  independentClient,
  rejectsWithCode,
  serviceApis,
  timestampMs,
} from './clients.ts';
export { type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts';
export { parsePrometheusText, type Sample, scrape, sumOf } from './prometheus-text.ts';
export { publishedEvent } from './published-events.ts';
export { type TestClock, testClock } from './test-clock.ts';
export { isolatedUpEnv } from './up-env.ts';
