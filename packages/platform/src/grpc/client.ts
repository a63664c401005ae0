import { type CallOptions, type Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';

/** Insecure credentials for loopback and in-cluster traffic (mTLS belongs to the mesh). */
export const insecure = () => credentials.createInsecure();

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/**
 * Calls a unary method with a deadline; every client call in Conveyor goes
 * through here so none can wait forever.
 */
export function callUnary<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: { deadlineMs: number; metadata?: Metadata },
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(
      client,
      request,
      options.metadata ?? new Metadata(),
      { deadline: Date.now() + options.deadlineMs },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}
