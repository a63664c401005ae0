/** Whether a user exists (not erased), asked with the caller's token. */
export interface UserDirectory {
  exists(userId: string, token: string): Promise<boolean>;
}
