import type { PersonalData } from '../domain/user.ts';

/** Seals personal data with a per-user data key (crypto-shredding: deleting the key erases every copy). */
export interface PersonalDataSealer {
  newKey(): Uint8Array;
  seal(key: Uint8Array, userId: string, data: PersonalData): string;
  /** undefined when the value is malformed, tampered with, or not sealed with this key for this user. */
  open(key: Uint8Array, userId: string, sealed: string): PersonalData | undefined;
}
