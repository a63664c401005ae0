export interface Webhook {
  id: string;
  /** undefined: global, every event. */
  userId: string | undefined;
  url: string;
  createdAt: Date;
}

export interface WebhookStore {
  /**
   * Stores a registration. Throws AppError ALREADY_EXISTS when its owner has
   * the URL registered, FAILED_PRECONDITION when the owner is at `maxPerOwner`.
   */
  add(webhook: Webhook & { secret: string }, maxPerOwner: number): Promise<void>;
  list(query: {
    userId?: string;
    limit: number;
    after?: { createdAt: Date; id: string };
  }): Promise<Webhook[]>;
  /** undefined when there is no such webhook; else how many pending deliveries were cancelled. */
  remove(id: string): Promise<{ cancelled: number } | undefined>;
}
