/** Hashes passwords into self-describing strings (PHC) and checks them. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** false for a wrong password; throws only for a malformed stored hash. */
  verify(storedHash: string, password: string): Promise<boolean>;
}
