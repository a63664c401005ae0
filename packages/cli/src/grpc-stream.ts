import type { ClientReadableStream } from '@grpc/grpc-js';

/**
 * Hands every message of a server stream to `onMessage`; resolves when the stream ends
 * with OK, rejects with the call's error (a ServiceError) or with what `onMessage` threw
 * (the call is then cancelled).
 */
export function readStream<T>(
  stream: ClientReadableStream<T>,
  onMessage: (message: T) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', (message: T) => {
      try {
        onMessage(message);
      } catch (error) {
        reject(error);
        stream.cancel();
      }
    });
    // grpc-js reports a failed status with 'error' before the 'end' of the ended stream.
    stream.on('error', reject);
    stream.on('end', () => resolve());
  });
}
