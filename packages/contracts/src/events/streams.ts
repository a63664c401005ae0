/**
 * JetStream streams. Retention is `limits`, not `workqueue`: several services
 * consume the same subjects (fan-out), and the stream is also the replay
 * buffer for new consumers; see docs/adr/0003-jetstream-retention.md.
 */
export const Streams = {
  users: { name: 'USERS', subjects: ['user.>'] },
  orders: { name: 'ORDERS', subjects: ['order.>'] },
  deadLetters: { name: 'DEADLETTERS', subjects: ['deadletter.>'] },
} as const;

export type StreamName = (typeof Streams)[keyof typeof Streams]['name'];

/** Subject of a dead letter: `deadletter.<consumer>.<original subject>`. */
export function deadLetterSubject(consumer: string, originalSubject: string): string {
  return `deadletter.${consumer}.${originalSubject}`;
}
