import { handleType, retry } from 'cockatiel';
import { aborted } from '../errors.ts';
import type { CloudEvent } from '../messaging/cloud-event.ts';
import type { TimerChanges } from '../timers/durable-timers.ts';
import { ConcurrencyConflict, type EventMetadata, type EventStore, type StoredEvent } from './event-store.ts';

/** An event-sourced aggregate as pure functions (see services/orders/src/domain/order.ts). */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Between domain events and their stored form. */
export interface EventCodec<Event> {
  encode(event: Event): { type: string; data: unknown };
  decode(stored: { type: string; data: unknown }): Event;
}

/** Snapshot every `every` events; loading then folds only what came after. */
export interface SnapshotPolicy<State> {
  every: number;
  encode(state: State): unknown;
  decode(json: unknown): State;
}

export interface Loaded<State> {
  state: State;
  version: number;
}

export async function loadAggregate<Command, Event, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, Event, State>,
  codec: EventCodec<Event>,
  snapshots?: SnapshotPolicy<State>,
): Promise<Loaded<State>> {
  let state = decider.initialState();
  let version = 0;
  const snapshot = snapshots && (await store.loadSnapshot(streamId));
  if (snapshot && snapshots) {
    state = snapshots.decode(snapshot.state);
    version = snapshot.version;
  }
  for (const stored of await store.readStream(streamId, { fromVersion: version + 1 })) {
    state = decider.evolve(state, codec.decode(stored));
    version = stored.version;
  }
  return { state, version };
}

export interface CommandHandlerOptions<Command, Event, State> {
  store: EventStore;
  decider: Decider<Command, Event, State>;
  codec: EventCodec<Event>;
  newEventId: () => string;
  /** Integration events for the outbox, from the new events and the state after them. */
  integrate?: (
    events: readonly { event: Event; eventId: string; version: number }[],
    stateAfter: State,
    metadata: EventMetadata,
  ) => CloudEvent[];
  /** Durable timers the new events set or clear (ADR 0032), appended with them. */
  timers?: (events: readonly Event[], stateAfter: State) => TimerChanges;
  snapshots?: SnapshotPolicy<State>;
  /** Load → decide → append attempts before giving up with ABORTED. */
  maxAttempts?: number;
}

export type CommandResult<Event, State> =
  | { kind: 'applied'; state: State; version: number; events: StoredEvent[]; decided: Event[] }
  | { kind: 'duplicate'; streamId: string };

/**
 * The one command loop: load (snapshot + newer events) → fold → decide →
 * append at the loaded version, with the integration events in the same
 * round trip. A lost race (ConcurrencyConflict) reloads and decides again,
 * up to maxAttempts, then fails with ABORTED. Errors from `decide`
 * (rejections) pass through untouched.
 */
export function createCommandHandler<Command, Event, State>(
  options: CommandHandlerOptions<Command, Event, State>,
) {
  const maxAttempts = options.maxAttempts ?? 5;
  // cockatiel's maxAttempts counts the retries after the first attempt.
  const conflicts = retry(handleType(ConcurrencyConflict), { maxAttempts: maxAttempts - 1 });
  const { store, decider, codec, snapshots } = options;

  /** One load → decide → append; a lost race throws ConcurrencyConflict. `fresh`: skip the load. */
  async function attemptOnce(
    streamId: string,
    command: Command | ((state: State) => Command),
    context: { metadata: EventMetadata; idempotency?: { scope: string; key: string } },
    fresh: boolean,
  ): Promise<CommandResult<Event, State>> {
    const loaded = fresh
      ? { state: decider.initialState(), version: 0 }
      : await loadAggregate(store, streamId, decider, codec, snapshots);
    const decided = decider.decide(
      typeof command === 'function' ? (command as (s: State) => Command)(loaded.state) : command,
      loaded.state,
    );
    const numbered = decided.map((event, i) => ({
      event,
      eventId: options.newEventId(),
      version: loaded.version + i + 1,
    }));
    const stateAfter = decided.reduce(decider.evolve, loaded.state);
    const result = await store.appendToStream(
      streamId,
      numbered.map((n) => ({ eventId: n.eventId, ...codec.encode(n.event), metadata: context.metadata })),
      {
        expectedVersion: loaded.version,
        outbox: options.integrate?.(numbered, stateAfter, context.metadata) ?? [],
        ...(options.timers && decided.length > 0 ? { timers: options.timers(decided, stateAfter) } : {}),
        ...(context.idempotency ? { idempotency: context.idempotency } : {}),
      },
    );
    if (result.kind === 'duplicate') return result;
    const version = loaded.version + decided.length;
    if (snapshots && Math.floor(loaded.version / snapshots.every) < Math.floor(version / snapshots.every)) {
      // Best effort: a missing snapshot only makes the next load fold more events.
      await store.saveSnapshot({ streamId, version, state: snapshots.encode(stateAfter) }).catch(() => {});
    }
    return { kind: 'applied', state: stateAfter, version, events: result.events, decided };
  }

  return async function handle(
    streamId: string,
    command: Command | ((state: State) => Command),
    context: {
      metadata: EventMetadata;
      idempotency?: { scope: string; key: string };
      /**
       * The caller just named this stream (a fresh id): the first attempt
       * skips reading it. Were it not empty after all, the append conflicts
       * and the next attempt loads it as usual.
       */
      newStream?: boolean;
    } = { metadata: {} },
  ): Promise<CommandResult<Event, State>> {
    try {
      // A lost race reloads and decides again at once: the winner's events are already stored.
      return await conflicts.execute(({ attempt }) =>
        attemptOnce(streamId, command, context, attempt === 0 && context.newStream === true),
      );
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict)) throw error;
      throw aborted(`${streamId} kept changing; gave up after ${maxAttempts} attempts, retry the command`);
    }
  };
}
