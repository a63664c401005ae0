import { InvalidArgument } from '@conveyor/platform/errors';
import { checkUuid } from '@conveyor/platform/validation';
import { checkWebhookUrl } from '../domain/webhook-url.ts';
import type { Webhook, WebhookStore } from './webhook-store.ts';

export interface RegisterWebhookCommand {
  /** The user whose events are posted; empty with `global`. */
  userId: string;
  global: boolean;
  url: string;
}

export interface RegisterWebhookDeps {
  webhooks: WebhookStore;
  newId: () => string;
  now: () => Date;
  /** A new random signing secret. */
  newSecret: () => string;
  allowLoopback: boolean;
  maxPerOwner: number;
}

/** Validates and stores a registration; the secret is returned here and never again. */
export function registerWebhook(deps: RegisterWebhookDeps) {
  return async (command: RegisterWebhookCommand): Promise<{ webhook: Webhook; secret: string }> => {
    if (command.global === (command.userId !== '')) {
      throw new InvalidArgument('user_id', 'give a user id, or set global for every event (not both)');
    }
    if (command.userId) checkUuid('user_id', command.userId);
    const checked = checkWebhookUrl(command.url, { allowLoopback: deps.allowLoopback });
    if (!checked.ok) throw new InvalidArgument('url', checked.problem);
    const webhook: Webhook = {
      id: deps.newId(),
      userId: command.global ? undefined : command.userId,
      url: checked.url,
      createdAt: deps.now(),
    };
    const secret = deps.newSecret();
    await deps.webhooks.add({ ...webhook, secret }, deps.maxPerOwner);
    return { webhook, secret };
  };
}
