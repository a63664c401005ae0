import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText } from '@conveyor/platform/prometheus-text';
import { summarize } from './metrics-summary.ts';

const parsePrometheus = (text: string) => parsePrometheusText(text, { malformed: 'skip' });

const text = `# HELP conveyor_outbox_published_total Events published.
# TYPE conveyor_outbox_published_total counter
conveyor_outbox_published_total{subject="order.created"} 7
conveyor_outbox_published_total{subject="order.paid"} 3
conveyor_events_consumed_total{consumer="notifications",subject="order.paid",outcome="ack"} 5
conveyor_events_consumed_total{consumer="notifications",subject="order.paid",outcome="dead_letter"} 2
rpc_server_requests_total{rpc_service="conveyor.orders.v1.OrderService",rpc_method="GetOrder",rpc_grpc_status_code="0"} 90
rpc_server_requests_total{rpc_service="conveyor.orders.v1.OrderService",rpc_method="GetOrder",rpc_grpc_status_code="5"} 7
rpc_server_requests_total{rpc_service="conveyor.orders.v1.OrderService",rpc_method="GetOrder",rpc_grpc_status_code="14"} 3
rpc_client_requests_total{rpc_service="conveyor.users.v1.UserService",rpc_method="VerifyToken",rpc_grpc_status_code="14"} 50
conveyor_outbox_backlog 4
conveyor_consumer_pending_messages{consumer="notifications"} 12
conveyor_circuit_breaker_state{downstream="smtp"} 2
conveyor_circuit_breaker_state{downstream="users"} 1
label_with_escapes{text="a \\"quoted\\" value"} 1
not a sample line
`;

describe('metrics summary', () => {
  it('parses samples with labels and skips comments and junk', () => {
    const samples = parsePrometheus(text);
    assert.equal(samples.length, 13);
    assert.deepEqual(samples.at(-1)?.labels, { text: 'a "quoted" value' });
  });

  it('sums throughput, gRPC errors, backlog, lag, dead letters; decodes breaker states', () => {
    assert.deepEqual(summarize('notifications', parsePrometheus(text)), {
      service: 'notifications',
      up: true,
      eventsPublished: 10,
      eventsConsumed: 5,
      grpcRequests: 100,
      grpcErrors: 3,
      outboxBacklog: 4,
      consumerLag: { notifications: 12 },
      breakers: { '→ smtp': 'open', '→ users': 'half-open' },
      deadLettered: 2,
    });
  });
});
