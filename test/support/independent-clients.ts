import { protoRoot } from '@conveyor/contracts';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * gRPC clients built from proto/ at run time with proto-loader, independent
 * of the generated code, so a test also proves the wire contract itself.
 */
export function independentClient(protoFile: string, service: string, address: string): grpc.Client {
  const definition = loadSync(protoFile, {
    includeDirs: [protoRoot],
    keepCase: true,
    defaults: true,
    enums: String,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const Ctor = service
    .split('.')
    .reduce<unknown>(
      (o, key) => (o as Record<string, unknown>)[key],
      loaded,
    ) as grpc.ServiceClientConstructor;
  return new Ctor(address, grpc.credentials.createInsecure());
}

/** Promisified unary call with a deadline. */
export function call<Res>(
  client: grpc.Client,
  method: string,
  request: object,
  deadlineMs = 5000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, grpc.requestCallback<Res> & ((...a: unknown[]) => void)>)[
      method
    ];
    if (!fn) throw new Error(`no method ${method}`);
    fn.call(
      client,
      request,
      { deadline: Date.now() + deadlineMs },
      (error: grpc.ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)),
    );
  });
}
