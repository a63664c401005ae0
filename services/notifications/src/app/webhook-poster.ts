export interface OutgoingWebhook {
  url: string;
  secret: string;
  /** The exact bytes to POST (and sign). */
  body: string;
  /** Stable per notification, so a resent POST is recognisable as the same one. */
  idempotencyKey: string;
  eventId: string;
  eventType: string;
  webhookId: string;
}

/** POSTs one webhook; resolves on a 2xx answer, throws (SendFailed or any error) otherwise. */
export interface WebhookPoster {
  post(request: OutgoingWebhook): Promise<void>;
}
