import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultProxy } from '@conveyor/stack';
import type { ChaosSystem } from '../chaos-system.ts';
import type { Experiment } from '../experiments.ts';

/** A fault on orders' gRPC calls to users (VerifyToken, GetUser, signing keys): orders' usersProxy. */
function grpcFault(name: string, fault: string, apply: (proxy: FaultProxy) => Promise<void>): Experiment {
  return {
    name,
    fault,
    async run(system: ChaosSystem) {
      const proxy = system.services.orders.usersProxy;
      if (!proxy) return { problems: ['orders has no proxy in front of users'], details: [] };
      const before = proxy.connections;
      try {
        await apply(proxy);
      } finally {
        proxy.set({ kind: 'pass' });
      }
      return {
        problems: [],
        details: [`connections orders opened to users meanwhile: ${proxy.connections - before}`],
      };
    },
  };
}

export const grpcLatencyOrdersUsers = grpcFault(
  'grpc-latency-orders-users',
  'orders -> users gRPC: +300 ms each way for 3 s',
  async (proxy) => {
    proxy.set({ kind: 'latency', ms: 300 });
    await sleep(3000);
  },
);

export const grpcCutOrdersUsers = grpcFault(
  'grpc-cut-orders-users',
  'orders -> users gRPC: connections cut 3 times, 1 s apart',
  async (proxy) => {
    for (let i = 0; i < 3; i++) {
      proxy.cut();
      await sleep(1000);
    }
  },
);
