/**
 * Who may order: the user service's answer. Throws UNAVAILABLE (an AppError)
 * when it cannot be asked, so a caller can retry later.
 */
export interface UserDirectory {
  exists(userId: string): Promise<boolean>;
}
