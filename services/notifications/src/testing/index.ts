// The notification service's test support (docs/architecture.md, "Test support").
export {
  drained,
  type NotificationsHarness,
  orderPaid,
  settled,
  startHarness,
  startTokenIssuer,
  type TokenIssuer,
  userCreated,
  userErased,
} from './notifications-harness.ts';
export { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';
